"""The mastodon kind against a local server replaying Mastodon REST API payloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collectors.matching import BrandRule
from collectors.sources.base import build_source
from collectors.sources.mastodon import next_max_id
from tests.collectors.apiserver import ApiServer, Reply, auth_failure_in_health, fixture, run_api_server

api_server_fixture = pytest.fixture(name="api_server")(run_api_server)
NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
TAG = "/api/v1/timelines/tag/ノロシ珈琲"
SEARCH = "/api/v2/search"
RULES = [BrandRule(1, ["#ノロシ珈琲", "Noroshi Coffee"])]


def _source(server: ApiServer, secrets=None, **settings):  # type: ignore[no-untyped-def]
    config = {"base_url": server.base, "retry_wait_seconds": 0.01} | settings
    return build_source("mastodon", config, brands=RULES, secrets=secrets or {})


def _link(server: ApiServer, max_id: str) -> dict[str, str]:
    tag = "%E3%83%8E%E3%83%AD%E3%82%B7%E7%8F%88%E7%90%B2"
    return {
        "Link": f'<{server.base}/api/v1/timelines/tag/{tag}?max_id={max_id}>; rel="next", '
        f'<{server.base}/api/v1/timelines/tag/{tag}?min_id=113524411234567890>; rel="prev"'
    }


def test_hashtag_timeline_follows_link_pages_and_strips_html(api_server: ApiServer) -> None:
    api_server.reply(
        "GET",
        TAG,
        Reply(fixture("mastodon", "tag_page1.json"), headers=_link(api_server, "113524400000000001")),
        Reply(fixture("mastodon", "tag_page2.json"), headers=_link(api_server, "113524300000000000")),
        Reply([]),
    )
    result = _source(api_server, search=True).fetch(None, NOW)  # no token: no search

    pages = api_server.to(TAG)
    assert [r.param("max_id") for r in pages] == [None, "113524400000000001", "113524300000000000"]
    assert pages[0].query == {"limit": ["40"]} and "authorization" not in pages[0].headers
    assert api_server.to(SEARCH) == []
    jane, sakura = result.posts
    assert sakura.text == "ノロシ珈琲の接客、ちょっと残念でした…\nもう行かないかも #ノロシ珈琲"
    assert sakura.author == "sakura" and sakura.author_followers == 412 and sakura.reposts == 7
    assert sakura.url == "https://mstdn.jp/@sakura/113524411234567890" and sakura.lang == "ja"
    assert jane.text == "coffee rant\nNoroshi Coffee & their new cup lids: leaky. #NoroshiCoffee"
    assert jane.author == "jane@mastodon.social" and jane.posted_at == datetime(
        2026, 11, 21, 5, 54, 12, tzinfo=UTC
    )
    assert result.skipped == [("113524300000000000", "status with empty content (media only?)")]


def test_next_run_asks_since_the_newest_status(api_server: ApiServer) -> None:
    api_server.reply("GET", TAG, Reply(fixture("mastodon", "tag_page1.json")))
    source = _source(api_server, hashtags=["#ノロシ珈琲"])
    first = source.fetch(None, NOW)
    assert len(first.posts) == 2
    api_server.reply("GET", TAG, Reply(fixture("mastodon", "tag_newer.json")))
    second = source.fetch(first.cursor, NOW + timedelta(minutes=15))
    assert api_server.requests[-1].param("since_id") == "113524411234567890"
    assert [p.external_id for p in second.posts] == ["113524500000000042"]


def test_search_with_a_token(api_server: ApiServer) -> None:
    api_server.reply("GET", TAG, Reply([]))
    api_server.reply("GET", SEARCH, Reply(fixture("mastodon", "search.json")))
    source = _source(api_server, {"mastodon_token": "mstdn-token-123"})
    first = source.fetch(None, NOW)
    searches = api_server.to(SEARCH)
    assert [r.param("q") for r in searches] == ["#ノロシ珈琲", "Noroshi Coffee"]
    assert searches[0].param("type") == "statuses" and searches[0].param("limit") == "40"
    assert searches[0].headers["authorization"] == "Bearer mstdn-token-123"
    assert [p.external_id for p in first.posts] == ["113524455500000000"]  # the same status twice: once
    source.fetch(first.cursor, NOW + timedelta(minutes=5))
    assert api_server.to(SEARCH)[-1].param("min_id") == "113524455500000000"


def test_rate_limit_reset_is_an_iso_time(api_server: ApiServer) -> None:
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0"}
    headers["X-RateLimit-Reset"] = "2026-11-21T06:05:00.123Z"
    headers |= _link(api_server, "113524400000000001")
    api_server.reply("GET", TAG, Reply(fixture("mastodon", "tag_page1.json"), headers=headers))
    source = _source(api_server)
    result = source.fetch(None, NOW)
    assert len(result.posts) == 2 and len(api_server.requests) == 1
    assert result.cursor is not None and result.cursor["wait_until"] == "2026-11-21T06:05:00.123000+00:00"
    api_server.reply("GET", TAG, Reply([]))
    source.fetch(result.cursor, datetime(2026, 11, 21, 6, 5, 1, tzinfo=UTC))
    assert api_server.requests[-1].param("max_id") == "113524400000000001"  # resumes the interrupted sweep


def test_link_header_parsing() -> None:
    assert next_max_id('<https://m.example/api/v1/timelines/tag/x?max_id=7&limit=40>; rel="next"') == "7"
    assert next_max_id('<https://m.example/api/v1/timelines/tag/x?min_id=9>; rel="prev"') is None
    assert next_max_id(None) is None


def test_bad_token_is_an_auth_failure_in_health(api_server: ApiServer, factory, scorer, now) -> None:
    api_server.reply("GET", "/api/v1/timelines/tag/noroshi", Reply([]))
    api_server.reply("GET", SEARCH, Reply(fixture("mastodon", "unauthorized.json"), 401))
    settings = {"base_url": api_server.base, "hashtags": ["noroshi"]}
    error = auth_failure_in_health(factory, scorer, now, "mastodon", settings, {"mastodon_token": "bad"})
    assert error == "SourceAuthError: mastodon: 401 Unauthorized — check NOROSHI_MASTODON_TOKEN"
