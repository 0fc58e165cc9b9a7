"""Kind "reddit": Reddit search with an app-only OAuth token (client credentials).

- Token: `POST {auth_url}/api/v1/access_token` with HTTP Basic NOROSHI_REDDIT_CLIENT_ID /
  NOROSHI_REDDIT_CLIENT_SECRET (secrets "reddit_client_id", "reddit_client_secret") and
  grant_type=client_credentials; one token per run (it lives a day; nothing secret is stored).
- Search: `GET {base_url}/search?q=…&sort=new&type=link&limit=100&raw_json=1` (or
  `/r/<subreddit>/search?…&restrict_sr=1` when `subreddit` is set), older pages with `after`; with
  `include_comments` a second search with type=comment (Reddit's site search answers it with t1
  comment things, but the API reference lists only sr, link and user: treat it as best effort).
  q = the brands' keywords OR-joined (phrases quoted), split into several queries when one would
  pass `max_query_length` (Reddit caps q at 512).
- Cursor: created_utc of the newest item of the last sweep (+ the fullnames at that second). Reddit's
  `before=<fullname>` breaks when that item is deleted, so the time is the floor.
- Posts: external_id = fullname (t3_… / t1_…), text = title + selftext (comments: body),
  author = u/<name>, reposts = num_crossposts; Reddit shows no follower counts (author_followers None).
- Every request sends `user_agent` (Reddit throttles generic agents). Rate limits:
  `X-Ratelimit-Remaining` / `X-Ratelimit-Reset` (seconds until reset) / `X-Ratelimit-Used`.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from pydantic import Field

from collectors.posts import RawPost
from collectors.sources.base import SourceAuthError, register_source_kind
from collectors.sources.webapi import (
    ApiClient,
    ApiSource,
    ApiSourceSettings,
    Item,
    Page,
    RateLimitHeaders,
    Target,
    optional_int,
    time_key,
    unique_keywords,
)

ENV_HINT = "NOROSHI_REDDIT_CLIENT_ID / NOROSHI_REDDIT_CLIENT_SECRET"
RATE = RateLimitHeaders("x-ratelimit-remaining", "x-ratelimit-reset", "seconds")


class RedditSettings(ApiSourceSettings):
    base_url: str = "https://oauth.reddit.com"
    auth_url: str = Field(default="https://www.reddit.com", description="where the token is requested")
    user_agent: str = Field(default="python:noroshi:0.1 (by /u/noroshi)", min_length=3)
    subreddit: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{2,21}$")
    include_comments: bool = False
    limit: int = Field(default=100, ge=1, le=100)
    max_query_length: int = Field(default=512, ge=32, le=4096)


def _term(keyword: str) -> str:
    keyword = " ".join(keyword.replace('"', "").split())
    return f'"{keyword}"' if " " in keyword else keyword


def build_queries(keywords: list[str], max_length: int) -> list[str]:
    """OR-joined keyword queries, each at most `max_length` characters."""
    queries: list[str] = []
    current = ""
    for term in (_term(kw) for kw in keywords):
        candidate = f"{current} OR {term}" if current else term
        if current and len(candidate) > max_length:
            queries.append(current)
            candidate = term
        current = candidate
    return [*queries, current] if current else queries


def _thing(child: Any) -> Item:
    data = child.get("data") if isinstance(child, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return Item(None, "?", None, "listing child without a fullname")
    name = data["name"]
    created = data.get("created_utc")
    if not isinstance(created, int | float) or isinstance(created, bool):
        return Item(None, name, None, f"bad created_utc {created!r}")
    posted_at = datetime.fromtimestamp(created, tz=UTC)
    if name.startswith("t1_"):
        text = data.get("body")
    else:
        title, body = data.get("title"), data.get("selftext")
        text = "\n".join(part for part in (title, body) if isinstance(part, str) and part.strip())
    if not isinstance(text, str) or not text.strip():
        return Item(time_key(posted_at), name, None, "no title, selftext or body")
    author = data.get("author")
    permalink = data.get("permalink")
    post = RawPost(
        external_id=name,
        posted_at=posted_at,
        text=text.strip(),
        author=f"u/{author}" if isinstance(author, str) and author != "[deleted]" else None,
        reposts=optional_int(data.get("num_crossposts")),
        url=f"https://www.reddit.com{permalink}" if isinstance(permalink, str) else None,
    )
    return Item(time_key(posted_at), name, post)


@register_source_kind("reddit", RedditSettings, context=True)
class RedditSource(ApiSource):
    """Reddit search (posts, optionally comments) for the brands' keywords."""

    kind: ClassVar[str] = "reddit"
    settings: RedditSettings
    _token: str | None = None

    def client(self, http: httpx.Client) -> ApiClient:
        return ApiClient("reddit", self.settings, http, RATE, ENV_HINT)

    def targets(self) -> list[Target]:
        kinds = ["link", "comment"] if self.settings.include_comments else ["link"]
        queries = build_queries(unique_keywords(self.rules), self.settings.max_query_length)
        return [Target(f"{kind}:{query}", query) for kind in kinds for query in queries]

    def prepare(self, api: ApiClient, now: datetime) -> None:
        client_id, secret = self.secrets.get("reddit_client_id"), self.secrets.get("reddit_client_secret")
        if not (client_id and secret):
            raise SourceAuthError(f"reddit: no client credentials — set {ENV_HINT}")
        response = api.post(
            self.settings.auth_url.rstrip("/") + "/api/v1/access_token",
            now=now,
            data={"grant_type": "client_credentials"},
            headers={
                "Authorization": "Basic " + _basic(client_id, secret),
                "User-Agent": self.settings.user_agent,
            },
        )
        token = response.json().get("access_token")
        if not isinstance(token, str):  # Reddit answers 200 {"error": "invalid_grant"} for some mistakes
            raise SourceAuthError(f"reddit: no access_token in the token response — check {ENV_HINT}")
        self._token = token

    def fetch_page(
        self, api: ApiClient, target: Target, token: str | None, floor: str | None, now: datetime
    ) -> Page:
        kind = target.label.split(":", 1)[0]
        params: dict[str, Any] = {
            "q": target.query,
            "sort": "new",
            "type": kind,
            "limit": self.settings.limit,
            "raw_json": 1,
        }
        path = "/search"
        if self.settings.subreddit:
            path = f"/r/{self.settings.subreddit}/search"
            params["restrict_sr"] = 1
        if token:
            params["after"] = token
        response = api.get(
            self.settings.base_url + path,
            now=now,
            params=params,
            headers={"Authorization": f"bearer {self._token}", "User-Agent": self.settings.user_agent},
        )
        listing = response.json().get("data") or {}
        items = [_thing(child) for child in listing.get("children") or []]
        return Page(items, listing.get("after") or None, api.exhausted_until(response, now))


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
