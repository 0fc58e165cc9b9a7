"""Kind "rss": poll an RSS 2.0 / Atom (or RSS 1.0) feed over HTTP, parse it with feedparser.

- GET with a timeout and User-Agent "Noroshi/0.1"; conditional GET with the ETag / Last-Modified kept
  in the cursor (304 → no posts, cursor unchanged).
- external_id = entry id (RSS guid, Atom id), else its link; entries with neither are skipped.
- posted_at = published, else updated (UTC), else the fetch time.
- text = title + summary (or content) with HTML stripped; author; url = link; lang = the entry's or
  the feed's declared language (primary subtag, lower case).
- The cursor remembers hashes of the ids seen recently (bounded), so repeated fetches do not repeat
  posts; when ids are evicted, their newest timestamp becomes a floor below which entries count as seen.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import urlsplit

import feedparser
import httpx
from pydantic import Field, field_validator

from collectors.posts import FetchResult, RawPost
from collectors.sources.base import SourceError, SourceSettings, register_source_kind

USER_AGENT = "Noroshi/0.1"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.9, */*;q=0.5"
)
SEEN_MAX = 2000
MAX_BYTES = 10 * 1024 * 1024
CURSOR_VERSION = 1


class RssSettings(SourceSettings):
    url: str = Field(description="feed URL (http or https)")
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        if not parts.hostname:
            raise ValueError("must name a host")
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError as exc:
            raise ValueError(f"invalid port: {exc}") from None
        return value


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
    _SKIP = frozenset({"script", "style", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def strip_html(value: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed."""
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    lines = (
        re.sub(r"[ \t\r\f\v\xa0\u3000]+", " ", line).strip() for line in "".join(parser.parts).split("\n")
    )
    return "\n".join(line for line in lines if line)


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None


def _lang(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().replace("_", "-").split("-")[0].lower() or None


def _digest(external_id: str) -> str:
    return hashlib.blake2b(external_id.encode("utf-8"), digest_size=8).hexdigest()


@register_source_kind("rss", RssSettings)
class RssSource:
    """Polls an RSS 2.0 / Atom feed."""

    kind: ClassVar[str] = "rss"

    def __init__(self, settings: RssSettings, *, http: httpx.Client | None = None) -> None:
        self.settings = settings
        self._http = http

    def fetch(self, cursor: dict[str, Any] | None, now: datetime) -> FetchResult:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        state = cursor if cursor and cursor.get("v") == CURSOR_VERSION else None
        headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
        if state and state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state and state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        status, response_headers, body = self._get(headers)
        if status == 304:
            return FetchResult(posts=[], cursor=cursor, watermark=None)
        return self._parse(body, response_headers, state, now)

    def _get(self, headers: dict[str, str]) -> tuple[int, httpx.Headers, bytes]:
        url = self.settings.url
        client = self._http or httpx.Client(follow_redirects=True)
        try:
            with client.stream(
                "GET", url, headers=headers, timeout=self.settings.timeout_seconds
            ) as response:
                if response.status_code == 304:
                    return 304, response.headers, b""
                if not response.is_success:
                    reason = response.reason_phrase or ""
                    raise SourceError(f"rss {url}: HTTP {response.status_code} {reason}".rstrip())
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise SourceError(f"rss {url}: response larger than {MAX_BYTES // (1024 * 1024)} MB")
                    chunks.append(chunk)
                return response.status_code, response.headers, b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise SourceError(
                f"rss {url}: timed out after {self.settings.timeout_seconds:g}s ({exc!r})"
            ) from exc
        except httpx.HTTPError as exc:
            raise SourceError(f"rss {url}: request failed: {exc!r}") from exc
        finally:
            if self._http is None:
                client.close()

    def _parse(
        self, body: bytes, headers: httpx.Headers, state: dict[str, Any] | None, now: datetime
    ) -> FetchResult:
        url = self.settings.url
        passed = {k: v for k, v in headers.items() if k.lower() in ("content-type", "content-language")}
        parsed = feedparser.parse(body, response_headers=passed)
        entries = list(parsed.get("entries") or [])
        if not entries and (parsed.get("bozo") or not parsed.get("version")):
            problem = parsed.get("bozo_exception") or "no RSS/Atom feed found in the response"
            raise SourceError(f"rss {url}: not a readable feed: {problem}")
        feed = parsed.get("feed") or {}
        feed_lang = _lang(feed.get("language")) or _lang(headers.get("content-language"))

        seen: list[list[Any]] = [list(item) for item in (state or {}).get("seen", [])]
        seen_set = {item[0] for item in seen}
        floor_raw = (state or {}).get("floor")
        floor = datetime.fromisoformat(floor_raw) if floor_raw else None

        posts: list[RawPost] = []
        skipped: list[tuple[str, str]] = []
        for index, entry in enumerate(entries, start=1):
            external_id = (entry.get("id") or entry.get("link") or "").strip()
            title = strip_html(entry.get("title") or "")
            if not external_id:
                skipped.append((f"entry {index}", f"no id/guid or link (title {title[:40]!r})"))
                continue
            key = _digest(external_id)
            declared = _entry_time(entry)
            if key in seen_set or (floor is not None and declared is not None and declared <= floor):
                continue
            body_html = entry.get("summary") or ""
            if not body_html and entry.get("content"):
                body_html = entry["content"][0].get("value") or ""
            summary = strip_html(body_html)
            text = title if not summary or summary == title else (f"{title}\n{summary}" if title else summary)
            if not text:
                skipped.append((external_id, "empty title and summary"))
                continue
            detail = entry.get("author_detail") or {}
            author = (detail.get("name") or entry.get("author") or "").strip() or None
            lang = _lang((entry.get("title_detail") or {}).get("language")) or feed_lang
            posts.append(
                RawPost(
                    external_id=external_id,
                    posted_at=declared or now.astimezone(UTC),
                    text=text,
                    author=author,
                    url=(entry.get("link") or "").strip() or None,
                    lang=lang,
                )
            )
            seen.append([key, int(declared.timestamp()) if declared else None])
            seen_set.add(key)

        if len(seen) > SEEN_MAX:
            evicted, seen = seen[: len(seen) - SEEN_MAX], seen[len(seen) - SEEN_MAX :]
            times = [datetime.fromtimestamp(t, tz=UTC) for _, t in evicted if t is not None]
            if times and (floor is None or max(times) > floor):
                floor = max(times)
        posts.sort(key=lambda post: post.posted_at)
        new_cursor: dict[str, Any] = {
            "v": CURSOR_VERSION,
            "etag": headers.get("etag"),
            "last_modified": headers.get("last-modified"),
            "seen": seen,
            "floor": floor.isoformat() if floor else None,
        }
        return FetchResult(posts=posts, cursor=new_cursor, watermark=None, skipped=skipped)
