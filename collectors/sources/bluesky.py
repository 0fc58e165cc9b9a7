"""Kind "bluesky": `app.bsky.feed.searchPosts` over XRPC with httpx, one search per brand keyword.

- Default: the public AppView (`base_url` https://public.api.bsky.app), no credentials. When
  NOROSHI_BLUESKY_HANDLE and NOROSHI_BLUESKY_APP_PASSWORD are set (secrets "bluesky_handle",
  "bluesky_app_password"), the run opens a session at the PDS (`pds_url`, default
  https://bsky.social, `com.atproto.server.createSession`) and searches through the PDS with the
  session's access token — the AppView may refuse or throttle anonymous search.
- Requests: q = the keyword (phrases quoted), sort=latest, limit, `since` = the newest indexedAt of
  the last sweep (inclusive, so the ids at that instant are remembered), `cursor` for the next page.
  Exclusions and languages are left to the matcher (the search syntax for them is unspecified).
- Posts: external_id = at:// URI, author = handle, reposts = repostCount, lang = record.langs[0],
  url = https://bsky.app/profile/<handle>/post/<rkey>. The search response carries no follower counts;
  with `fetch_followers` (default on) one `app.bsky.actor.getProfiles` call per 25 authors fills them.
- Rate limits: `ratelimit-remaining` / `ratelimit-reset` (epoch seconds).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
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
    parse_time,
    time_key,
    unique_keywords,
)

ENV_HINT = "NOROSHI_BLUESKY_HANDLE / NOROSHI_BLUESKY_APP_PASSWORD"
RATE = RateLimitHeaders("ratelimit-remaining", "ratelimit-reset", "epoch")
PROFILES_PER_CALL = 25  # getProfiles accepts at most 25 actors


class BlueskySettings(ApiSourceSettings):
    base_url: str = "https://public.api.bsky.app"
    pds_url: str = Field(default="https://bsky.social", description="PDS used when credentials are set")
    limit: int = Field(default=100, ge=1, le=100)
    fetch_followers: bool = True


def _post(view: Any) -> Item:
    if not isinstance(view, dict) or not isinstance(view.get("uri"), str):
        return Item(None, "?", None, "post without a uri")
    uri = view["uri"]
    record = view.get("record") if isinstance(view.get("record"), dict) else {}
    author = view.get("author") if isinstance(view.get("author"), dict) else {}
    try:
        posted_at = parse_time(record.get("createdAt"))
        key = time_key(parse_time(view.get("indexedAt") or record.get("createdAt")))
    except ValueError as exc:
        return Item(None, uri, None, f"bad time: {exc}")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return Item(key, uri, None, "post without text")
    handle = author.get("handle") if isinstance(author.get("handle"), str) else None
    langs = record.get("langs") if isinstance(record.get("langs"), list) else []
    rkey = uri.rsplit("/", 1)[-1]
    post = RawPost(
        external_id=uri,
        posted_at=posted_at,
        text=text,
        author=handle or author.get("did"),
        reposts=optional_int(view.get("repostCount")),
        url=f"https://bsky.app/profile/{handle or author.get('did')}/post/{rkey}",
        lang=langs[0] if langs and isinstance(langs[0], str) else None,
    )
    return Item(key, uri, post)


def _did(uri: str) -> str:
    return uri.removeprefix("at://").split("/", 1)[0]


@register_source_kind("bluesky", BlueskySettings, context=True)
class BlueskySource(ApiSource):
    """Bluesky post search (app.bsky.feed.searchPosts) for the brands' keywords."""

    kind: ClassVar[str] = "bluesky"
    settings: BlueskySettings
    _token: str | None = None

    def client(self, http: httpx.Client) -> ApiClient:
        return ApiClient("bluesky", self.settings, http, RATE, ENV_HINT)

    def targets(self) -> list[Target]:
        return [Target(f"q:{kw}", f'"{kw}"' if " " in kw else kw) for kw in unique_keywords(self.rules)]

    def prepare(self, api: ApiClient, now: datetime) -> None:
        handle, password = self.secrets.get("bluesky_handle"), self.secrets.get("bluesky_app_password")
        self._token = None
        if not handle and not password:
            return
        if not (handle and password):
            raise SourceAuthError(f"bluesky: set both {ENV_HINT}")
        response = api.post(
            self.settings.pds_url.rstrip("/") + "/xrpc/com.atproto.server.createSession",
            now=now,
            json={"identifier": handle, "password": password},
        )
        token = response.json().get("accessJwt")
        if not isinstance(token, str):
            raise SourceAuthError(f"bluesky: createSession returned no accessJwt — check {ENV_HINT}")
        self._token = token

    def _xrpc(self, method: str) -> str:
        base = self.settings.pds_url if self._token else self.settings.base_url
        return f"{base.rstrip('/')}/xrpc/{method}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def fetch_page(
        self, api: ApiClient, target: Target, token: str | None, floor: str | None, now: datetime
    ) -> Page:
        params: dict[str, Any] = {"q": target.query, "sort": "latest", "limit": self.settings.limit}
        if floor:
            params["since"] = floor
        if token:
            params["cursor"] = token
        response = api.get(
            self._xrpc("app.bsky.feed.searchPosts"), now=now, params=params, headers=self._headers()
        )
        data = response.json()
        items = [_post(view) for view in data.get("posts") or []]
        wait = api.exhausted_until(response, now)
        if self.settings.fetch_followers and wait is None:
            items = self._with_followers(api, items, now)
        return Page(items, data.get("cursor") or None, wait)

    def _with_followers(self, api: ApiClient, items: list[Item], now: datetime) -> list[Item]:
        dids = list(dict.fromkeys(_did(item.ref) for item in items if item.post is not None))
        followers: dict[str, int] = {}
        for start in range(0, len(dids), PROFILES_PER_CALL):
            batch = dids[start : start + PROFILES_PER_CALL]
            response = api.get(
                self._xrpc("app.bsky.actor.getProfiles"),
                now=now,
                params=[("actors", did) for did in batch],
                headers=self._headers(),
            )
            for profile in response.json().get("profiles") or []:
                count = optional_int(profile.get("followersCount")) if isinstance(profile, dict) else None
                if count is not None:
                    followers[str(profile.get("did"))] = count
        return [
            Item(i.key, i.ref, _replace_followers(i.post, followers.get(_did(i.ref))), i.reason)
            if i.post is not None
            else i
            for i in items
        ]


def _replace_followers(post: RawPost, followers: int | None) -> RawPost:
    return replace(post, author_followers=followers)
