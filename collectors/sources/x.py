"""Kind "x": X API v2 recent search (`GET /2/tweets/search/recent`, app-only bearer token).

- Auth: `Authorization: Bearer <NOROSHI_X_BEARER_TOKEN>` (secret "x_bearer_token").
- Query from the brands' keywords (setting `brands`, empty = all brands): per brand
  `(kw1 OR "kw two") -excluded lang:ja`, brands OR-joined, then `-is:retweet` (setting
  `exclude_retweets`, default on). Terms with spaces or characters outside [A-Za-z0-9_] are quoted;
  `#tag` / `@handle` pass as operators. If the query exceeds `max_query_length` (512 on the
  Basic/Pro tiers, 4096 on Enterprise) the exclusions and `lang:` operators are dropped first — the
  matcher applies them again to every post — and if it is still too long the run fails with a message
  asking to split the brands over several sources.
- Fields: tweet.fields=created_at,public_metrics,lang,author_id; expansions=author_id;
  user.fields=public_metrics,username → author = @username, author_followers = followers_count,
  reposts = retweet_count (quote_count is not added: a quote is a new post, often collected itself).
- Cursor: `since_id` = newest id of the last complete sweep; pagination with `next_token`.
- Rate limits: `x-rate-limit-remaining` / `x-rate-limit-reset` (epoch seconds).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import Field

from collectors.matching import BrandRule
from collectors.posts import RawPost
from collectors.sources.base import SourceAuthError, SourceError, register_source_kind
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
)

SECRET = "x_bearer_token"
ENV = "NOROSHI_X_BEARER_TOKEN"
SEARCH_PATH = "/2/tweets/search/recent"
RATE = RateLimitHeaders("x-rate-limit-remaining", "x-rate-limit-reset", "epoch")
_BARE = re.compile(r"[A-Za-z0-9_]+|[#@]\w+")  # hashtags and handles may be in any script


class XSettings(ApiSourceSettings):
    base_url: str = "https://api.x.com"
    max_results: int = Field(default=100, ge=10, le=100, description="tweets per page (10–100)")
    exclude_retweets: bool = True
    max_query_length: int = Field(default=512, ge=32, le=4096)


def quote_term(term: str) -> str:
    term = " ".join(term.split())
    if _BARE.fullmatch(term):
        return term
    return '"' + term.replace('"', "") + '"'


def _brand_clause(rule: BrandRule, with_filters: bool) -> list[str]:
    keywords = [quote_term(kw) for kw in rule.keywords]
    clause = keywords[0] if len(keywords) == 1 else "(" + " OR ".join(keywords) + ")"
    if not with_filters:
        return [clause]
    parts = [clause] + ["-" + quote_term(ex) for ex in rule.exclude]
    langs = list(dict.fromkeys(lang.split("-")[0].lower() for lang in rule.languages))
    if langs:
        parts.append(
            f"lang:{langs[0]}" if len(langs) == 1 else "(" + " OR ".join(f"lang:{x}" for x in langs) + ")"
        )
    return parts


def build_query(rules: list[BrandRule], exclude_retweets: bool, max_length: int) -> str:
    """The recent-search query for these brands (see the module docstring)."""
    if not rules:
        raise SourceError("x: no brands to search for (setting 'brands' or add a brand)")
    suffix = " -is:retweet" if exclude_retweets else ""
    for with_filters in (True, False):
        clauses = [_brand_clause(rule, with_filters) for rule in rules]
        grouped = [" ".join(c) if len(c) == 1 or len(clauses) == 1 else f"({' '.join(c)})" for c in clauses]
        body = grouped[0] if len(grouped) == 1 else "(" + " OR ".join(grouped) + ")"
        query = body + suffix
        if len(query) <= max_length:
            return query
    raise SourceError(
        f"x: the query for {len(rules)} brand(s) is {len(query)} characters, over max_query_length "
        f"{max_length}; split the brands over several x sources (setting 'brands')"
    )


def _tweet(tweet: Any, users: dict[str, Any]) -> Item:
    if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str):
        return Item(None, "?", None, "tweet without an id")
    ref = tweet["id"]
    try:
        key = id_key(ref)
        posted_at = parse_time(tweet.get("created_at"))
    except ValueError as exc:
        return Item(None, ref, None, str(exc))
    text = tweet.get("text")
    if not isinstance(text, str) or not text.strip():
        return Item(key, ref, None, "tweet without text")
    user = users.get(str(tweet.get("author_id")), {})
    username = user.get("username") if isinstance(user.get("username"), str) else None
    metrics = tweet.get("public_metrics") if isinstance(tweet.get("public_metrics"), dict) else {}
    user_metrics = user.get("public_metrics") if isinstance(user.get("public_metrics"), dict) else {}
    post = RawPost(
        external_id=ref,
        posted_at=posted_at,
        text=text,
        author=f"@{username}" if username else tweet.get("author_id"),
        author_followers=optional_int(user_metrics.get("followers_count")),
        reposts=optional_int(metrics.get("retweet_count")),
        url=f"https://x.com/{username or 'i'}/status/{ref}",
        lang=tweet.get("lang") if isinstance(tweet.get("lang"), str) else None,
    )
    return Item(key, ref, post)


@register_source_kind("x", XSettings, context=True)
class XSource(ApiSource):
    """X (Twitter) API v2 recent search for the brands' keywords."""

    kind: ClassVar[str] = "x"
    settings: XSettings

    def client(self, http: httpx.Client) -> ApiClient:
        return ApiClient("x", self.settings, http, RATE, ENV)

    def targets(self) -> list[Target]:
        query = build_query(self.rules, self.settings.exclude_retweets, self.settings.max_query_length)
        return [Target("search", query)]

    def prepare(self, api: ApiClient, now: datetime) -> None:
        if not self.secrets.get(SECRET):
            raise SourceAuthError(f"x: no bearer token — set {ENV}")

    def fetch_page(
        self, api: ApiClient, target: Target, token: str | None, floor: str | None, now: datetime
    ) -> Page:
        params: dict[str, Any] = {
            "query": target.query,
            "max_results": self.settings.max_results,
            "tweet.fields": "created_at,public_metrics,lang,author_id",
            "expansions": "author_id",
            "user.fields": "public_metrics,username",
        }
        if floor:
            params["since_id"] = floor.lstrip("0")
        if token:
            params["next_token"] = token
        response = api.get(
            self.settings.base_url + SEARCH_PATH,
            now=now,
            params=params,
            headers={"Authorization": f"Bearer {self.secrets[SECRET]}"},
        )
        data = response.json()
        users = {
            str(u.get("id")): u
            for u in (data.get("includes") or {}).get("users") or []
            if isinstance(u, dict)
        }
        items = [_tweet(t, users) for t in data.get("data") or []]
        meta = data.get("meta") or {}
        return Page(items, meta.get("next_token"), api.exhausted_until(response, now))
