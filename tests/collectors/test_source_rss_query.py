"""The rss_query kind: a Google-News-style search feed built from the brands' keywords."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collectors.matching import BrandRule
from collectors.sources.base import SourceError, build_source
from tests.collectors.apiserver import FIXTURES, ApiServer, Reply, run_api_server

api_server_fixture = pytest.fixture(name="api_server")(run_api_server)
NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
RULES = [BrandRule(1, ["ノロシ珈琲", "Noroshi Coffee"]), BrandRule(2, ["ACME"])]


def test_query_feed_url_from_brand_keywords(api_server: ApiServer) -> None:
    feed = (FIXTURES / "rss_query" / "google_news.xml").read_bytes()
    api_server.reply("GET", "/rss/search", Reply(feed, headers={"Content-Type": "application/rss+xml"}))
    settings = {"base_url": api_server.base + "/rss/search", "brands": [1], "extra": "when:1d"}
    source = build_source("rss_query", settings, brands=RULES)
    result = source.fetch(None, NOW)

    (request,) = api_server.requests
    assert request.query == {
        "q": ['"ノロシ珈琲" OR "Noroshi Coffee" when:1d'],
        "hl": ["ja"],
        "gl": ["JP"],
        "ceid": ["JP:ja"],
    }
    overseas, apology = result.posts
    assert apology.external_id == "CBMiWkFVX3lxTE5vcm9zaGlBcG9sb2d5"
    assert apology.text.startswith("ノロシ珈琲、渋谷店の動画で謝罪 - ITmedia")
    assert apology.posted_at == datetime(2026, 11, 21, 5, 30, tzinfo=UTC) and apology.lang == "ja"
    assert overseas.url == "https://news.google.com/rss/articles/CBMiX0FVX3lxTE5vcm9zaGlPdmVyc2Vhcw?oc=5"
    assert source.fetch(result.cursor, NOW).posts == []  # the same feed again: nothing new


def test_no_keywords_is_an_error() -> None:
    with pytest.raises(SourceError, match="no brand keywords"):
        build_source("rss_query", {}, brands=[]).fetch(None, NOW)
