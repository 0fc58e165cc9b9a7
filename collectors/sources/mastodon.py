"""Kind "mastodon": hashtag timelines and (with a token) status search on one chosen instance.

- `base_url` is the instance (e.g. https://mastodon.social); `hashtags` lists tags to follow (without
  "#"); when empty, the brands' keywords that are valid hashtags are used ("#ノロシ珈琲" → ノロシ珈琲).
- Hashtags: `GET /api/v1/timelines/tag/:hashtag?limit=40&since_id=<floor>&max_id=<page>` (public,
  no token needed), older pages from the `Link: <…?max_id=…>; rel="next"` header.
- Search: with NOROSHI_MASTODON_TOKEN (secret "mastodon_token") and `search` on (default), one
  `GET /api/v2/search?type=statuses&q=<keyword>&min_id=<floor>` per keyword, older pages by max_id.
  Instances only full-text search statuses for authenticated users, so there is no search without it.
- Posts: external_id = status id, text = content with HTML stripped (spoiler text first), author =
  account.acct, author_followers = account.followers_count, reposts = reblogs_count, lang = language.
- Rate limits: `X-RateLimit-Remaining` / `X-RateLimit-Reset` (ISO 8601 time).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from pydantic import Field

from collectors.posts import RawPost
from collectors.sources.base import register_source_kind
from collectors.sources.rss import strip_html
from collectors.sources.webapi import (
    ApiClient,
    ApiSource,
    ApiSourceSettings,
    Item,
    Page,
    RateLimitHeaders,
    Target,
    id_key,
    optional_int,
    parse_time,
    unique_keywords,
)

SECRET = "mastodon_token"
ENV = "NOROSHI_MASTODON_TOKEN"
RATE = RateLimitHeaders("x-ratelimit-remaining", "x-ratelimit-reset", "iso")
_HASHTAG = re.compile(r"#?(\w+)")
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class MastodonSettings(ApiSourceSettings):
    base_url: str = Field(description="the instance, e.g. https://mastodon.social")
    hashtags: list[str] = Field(default_factory=list, description="tags to follow; empty = from keywords")
    search: bool = Field(default=True, description="also search statuses (needs NOROSHI_MASTODON_TOKEN)")
    local: bool = Field(default=False, description="hashtag timelines: only this instance's posts")
    limit: int = Field(default=40, ge=1, le=40)


def _status(status: Any) -> Item:
    if not isinstance(status, dict) or not isinstance(status.get("id"), str):
        return Item(None, "?", None, "status without an id")
    ref = status["id"]
    try:
        key = id_key(ref)
        posted_at = parse_time(status.get("created_at"))
    except ValueError as exc:
        return Item(None, ref, None, str(exc))
    content = status.get("content")
    if not isinstance(content, str):
        return Item(key, ref, None, "status without content")
    text = strip_html(content)
    spoiler = status.get("spoiler_text")
    if isinstance(spoiler, str) and spoiler.strip():
        text = f"{spoiler.strip()}\n{text}" if text else spoiler.strip()
    if not text:
        return Item(key, ref, None, "status with empty content (media only?)")
    account = status.get("account") if isinstance(status.get("account"), dict) else {}
    post = RawPost(
        external_id=ref,
        posted_at=posted_at,
        text=text,
        author=account.get("acct") if isinstance(account.get("acct"), str) else None,
        author_followers=optional_int(account.get("followers_count")),
        reposts=optional_int(status.get("reblogs_count")),
        url=status.get("url") or status.get("uri"),
        lang=status.get("language") if isinstance(status.get("language"), str) else None,
    )
    return Item(key, ref, post)


def next_max_id(link_header: str | None) -> str | None:
    """max_id of the `rel="next"` link (older page), if any."""
    match = _NEXT_LINK.search(link_header or "")
    if not match:
        return None
    values = parse_qs(urlsplit(match.group(1)).query).get("max_id")
    return values[0] if values else None


@register_source_kind("mastodon", MastodonSettings, context=True)
class MastodonSource(ApiSource):
    """Mastodon hashtag timelines and status search on one instance."""

    kind: ClassVar[str] = "mastodon"
    settings: MastodonSettings

    def client(self, http: httpx.Client) -> ApiClient:
        return ApiClient("mastodon", self.settings, http, RATE, ENV)

    def _hashtags(self) -> list[str]:
        if self.settings.hashtags:
            return [tag.lstrip("#") for tag in self.settings.hashtags]
        tags = (_HASHTAG.fullmatch(kw) for kw in unique_keywords(self.rules))
        return list(dict.fromkeys(match.group(1) for match in tags if match))

    def targets(self) -> list[Target]:
        targets = [Target(f"tag:{tag}", tag) for tag in self._hashtags()]
        if self.settings.search and self.secrets.get(SECRET):
            targets += [Target(f"search:{kw}", kw) for kw in unique_keywords(self.rules)]
        return targets

    def _headers(self) -> dict[str, str]:
        token = self.secrets.get(SECRET)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def fetch_page(
        self, api: ApiClient, target: Target, token: str | None, floor: str | None, now: datetime
    ) -> Page:
        if target.label.startswith("tag:"):
            return self._tag_page(api, target.query, token, floor, now)
        return self._search_page(api, target.query, token, floor, now)

    def _tag_page(
        self, api: ApiClient, tag: str, token: str | None, floor: str | None, now: datetime
    ) -> Page:
        params: dict[str, Any] = {"limit": self.settings.limit}
        if self.settings.local:
            params["local"] = "true"
        if floor:
            params["since_id"] = floor.lstrip("0")
        if token:
            params["max_id"] = token
        url = f"{self.settings.base_url}/api/v1/timelines/tag/{quote(tag, safe='')}"
        response = api.get(url, now=now, params=params, headers=self._headers())
        body = response.json()
        items = [_status(s) for s in body] if isinstance(body, list) else []
        next_token = next_max_id(response.headers.get("link")) if items else None
        return Page(items, next_token, api.exhausted_until(response, now))

    def _search_page(
        self, api: ApiClient, query: str, token: str | None, floor: str | None, now: datetime
    ) -> Page:
        params: dict[str, Any] = {"q": query, "type": "statuses", "limit": self.settings.limit}
        if floor:
            params["min_id"] = floor.lstrip("0")
        if token:
            params["max_id"] = token
        response = api.get(
            f"{self.settings.base_url}/api/v2/search", now=now, params=params, headers=self._headers()
        )
        statuses = response.json().get("statuses") or []
        items = [_status(s) for s in statuses]
        ids = [item.key for item in items if item.key]
        # A full page may have older results; the next page ends below the oldest id of this one.
        next_token = min(ids).lstrip("0") if len(statuses) >= self.settings.limit and ids else None
        return Page(items, next_token, api.exhausted_until(response, now))
