"""Kind "rss_query": a news search feed (Google News style) whose URL is built from the brands' keywords.

`GET {base_url}?q=<query>&hl=ja&gl=JP&ceid=JP:ja`, where the query is the keywords of the chosen
brands (setting `brands`, empty = all) quoted and OR-joined, plus `extra` (e.g. "when:1d").
Exclusions and languages are left to the matcher. The feed is then read exactly like kind "rss"
(conditional GET, ids seen kept in the cursor). `base_url` defaults to Google News' search feed;
any service taking the query in `q` works (Bing News: https://www.bing.com/news/search with
`format=RSS` in `extra_params`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import Field

from collectors.matching import BrandRule
from collectors.posts import FetchResult
from collectors.sources.base import SourceError, SourceSettings, register_source_kind
from collectors.sources.rss import RssSettings, RssSource
from collectors.sources.webapi import selected_rules, unique_keywords


class RssQuerySettings(SourceSettings):
    base_url: str = Field(default="https://news.google.com/rss/search", description="search feed URL")
    brands: list[int] = Field(default_factory=list, description="brand ids whose keywords build q")
    extra: str = Field(default="", description='appended to the query, e.g. "when:1d"')
    extra_params: dict[str, str] = Field(
        default_factory=lambda: {"hl": "ja", "gl": "JP", "ceid": "JP:ja"},
        description="other query parameters (Google News: edition language and country)",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)


def build_query(keywords: Sequence[str], extra: str) -> str:
    terms = ['"' + " ".join(kw.replace('"', "").split()) + '"' for kw in keywords]
    return " ".join(part for part in (" OR ".join(terms), extra.strip()) if part)


@register_source_kind("rss_query", RssQuerySettings, context=True)
class RssQuerySource:
    """A news search feed for the brands' keywords (Google News RSS by default)."""

    kind: ClassVar[str] = "rss_query"

    def __init__(
        self,
        settings: RssQuerySettings,
        *,
        http: httpx.Client | None = None,
        brands: Sequence[BrandRule] = (),
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.keywords = unique_keywords(selected_rules(brands, settings.brands))
        params = {"q": build_query(self.keywords, settings.extra), **settings.extra_params}
        self.url = str(httpx.URL(settings.base_url, params=params))
        self._rss = RssSource(RssSettings(url=self.url, timeout_seconds=settings.timeout_seconds), http=http)

    def fetch(self, cursor: dict[str, Any] | None, now: datetime) -> FetchResult:
        if not self.keywords:
            raise SourceError("rss_query: no brand keywords to search for (setting 'brands' or add a brand)")
        return self._rss.fetch(cursor, now)
