"""The x kind against a local server replaying X API v2 recent-search payloads (tests/fixtures/x)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.context import ApiContext
from collectors.ingest import MentionIngestor
from collectors.jobs import SourceRunner
from collectors.matching import BrandRule
from collectors.sources.base import SourceAuthError, SourceError, build_source
from collectors.sources.webapi import RateLimited
from collectors.sources.x import build_query
from storage.mentions import Mention
from storage.sources import Source
from tests.collectors.apiserver import ApiServer, Reply, fixture, run_api_server
from tests.helpers import add_brand, add_source

api_server_fixture = pytest.fixture(name="api_server")(run_api_server)
NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
PATH = "/2/tweets/search/recent"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAtest%2Fbearer"
RULES = [BrandRule(1, ["ノロシ珈琲", "Noroshi Coffee"], exclude=["求人"], languages=["ja", "en"])]


def _source(server: ApiServer, rules=RULES, **settings):  # type: ignore[no-untyped-def]
    config = {"base_url": server.base, "retry_wait_seconds": 0.01, **settings}
    return build_source("x", config, brands=rules, secrets={"x_bearer_token": TOKEN})


def test_query_quotes_phrases_or_joins_brands_and_respects_the_length_limit() -> None:
    two = [*RULES, BrandRule(2, ["#狼煙", "@noroshi_jp"])]
    assert build_query(two, True, 512) == (
        '((("ノロシ珈琲" OR "Noroshi Coffee") -"求人" (lang:ja OR lang:en)) OR (#狼煙 OR @noroshi_jp))'
        " -is:retweet"
    )
    assert (
        build_query(RULES[:1], False, 512)
        == '("ノロシ珈琲" OR "Noroshi Coffee") -"求人" (lang:ja OR lang:en)'
    )
    # Too long with the filters: they go (the matcher applies them again), the keywords stay.
    assert build_query(RULES, True, 50) == '("ノロシ珈琲" OR "Noroshi Coffee") -is:retweet'
    with pytest.raises(SourceError, match="over max_query_length 40; split the brands"):
        build_query(RULES, True, 40)


def test_pages_are_followed_authors_expanded_and_malformed_tweets_skipped(api_server: ApiServer) -> None:
    api_server.reply(
        "GET", PATH, Reply(fixture("x", "search_page1.json")), Reply(fixture("x", "search_page2.json"))
    )
    result = _source(api_server).fetch(None, NOW)

    first, second = api_server.to(PATH)
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert (
        first.param("query") == '("ノロシ珈琲" OR "Noroshi Coffee") -"求人" (lang:ja OR lang:en) -is:retweet'
    )
    assert first.param("tweet.fields") == "created_at,public_metrics,lang,author_id"
    assert first.param("expansions") == "author_id"
    assert first.param("user.fields") == "public_metrics,username"
    assert first.param("max_results") == "100" and first.param("since_id") is None
    assert second.param("next_token") == "b26v89c19zqg8o3fpzbkk0wj2k1m1x1p5o8ly7hmwjrb1"

    assert [p.external_id for p in result.posts] == [  # oldest first
        "1861920000000000001",
        "1861924411906621440",
        "1861925087391047684",
    ]
    flame = result.posts[0]
    assert flame.author == "@sakura_cafe_love" and flame.author_followers == 1520
    assert flame.reposts == 230 and flame.lang == "ja"
    assert flame.posted_at == datetime(2026, 11, 21, 5, 40, 2, tzinfo=UTC)
    assert flame.url == "https://x.com/sakura_cafe_love/status/1861920000000000001"
    assert result.posts[1].author == "@jane_roe" and result.posts[1].author_followers == 87
    assert result.skipped == [("1861919999999999999", "not a timestamp: None")]


def test_the_next_run_asks_only_for_newer_tweets_and_repeats_none(api_server: ApiServer) -> None:
    api_server.reply(
        "GET", PATH, Reply(fixture("x", "search_page1.json")), Reply(fixture("x", "search_page2.json"))
    )
    source = _source(api_server)
    first = source.fetch(None, NOW)
    api_server.reply("GET", PATH, Reply(fixture("x", "search_newer.json")))
    second = source.fetch(first.cursor, NOW + timedelta(minutes=15))
    assert api_server.requests[-1].param("since_id") == "1861925087391047684"
    assert [p.external_id for p in second.posts] == ["1861930000000000007"]
    assert second.posts[0].author_followers == 250000
    api_server.reply("GET", PATH, Reply(fixture("x", "search_empty.json")))
    third = source.fetch(second.cursor, NOW + timedelta(minutes=30))
    assert api_server.requests[-1].param("since_id") == "1861930000000000007"
    assert third.posts == [] and third.cursor == second.cursor | {"wait_until": None}


def test_spent_rate_limit_stops_paging_and_waits_until_reset(api_server: ApiServer) -> None:
    reset = NOW + timedelta(minutes=12)
    spent = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0"}
    spent["x-rate-limit-reset"] = str(int(reset.timestamp()))
    api_server.reply("GET", PATH, Reply(fixture("x", "search_page1.json"), headers=spent))
    source = _source(api_server)
    first = source.fetch(None, NOW)
    assert len(first.posts) == 2 and len(api_server.requests) == 1  # page 2 not asked for
    assert first.cursor is not None and first.cursor["wait_until"] == reset.isoformat()

    early = source.fetch(first.cursor, reset - timedelta(seconds=1))
    assert early.posts == [] and len(api_server.requests) == 1  # nothing sent before the reset

    api_server.reply("GET", PATH, Reply(fixture("x", "search_page2.json")))
    resumed = source.fetch(first.cursor, reset)
    assert api_server.requests[-1].param("next_token") == "b26v89c19zqg8o3fpzbkk0wj2k1m1x1p5o8ly7hmwjrb1"
    assert [p.external_id for p in resumed.posts] == ["1861920000000000001"]
    assert resumed.cursor is not None and resumed.cursor["targets"]["search"]["floor"].endswith(
        "1861925087391047684"
    )


def test_429_raises_with_the_reset_time(api_server: ApiServer) -> None:
    reset = NOW + timedelta(seconds=437)
    headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(reset.timestamp()))}
    api_server.reply("GET", PATH, Reply(fixture("x", "too_many_requests.json"), 429, headers))
    with pytest.raises(RateLimited) as caught:
        _source(api_server).fetch(None, NOW)
    assert caught.value.retry_after == reset


def test_5xx_is_retried_then_given_up(api_server: ApiServer) -> None:
    api_server.reply(
        "GET", PATH, Reply({"title": "Service Unavailable"}, 503), Reply(fixture("x", "search_newer.json"))
    )
    result = _source(api_server).fetch(None, NOW)
    assert len(api_server.requests) == 2 and [p.external_id for p in result.posts] == ["1861930000000000007"]

    api_server.requests.clear()
    api_server.reply("GET", PATH, Reply({"title": "Internal Server Error"}, 500))
    with pytest.raises(SourceError, match=r"x: HTTP 500 Internal Server Error \(after 3 attempts\)"):
        _source(api_server, retries=2).fetch(None, NOW)
    assert len(api_server.requests) == 3


def test_missing_token_is_an_auth_error(api_server: ApiServer) -> None:
    source = build_source("x", {"base_url": api_server.base}, brands=RULES, secrets={})
    with pytest.raises(SourceAuthError, match="set NOROSHI_X_BEARER_TOKEN"):
        source.fetch(None, NOW)
    assert api_server.requests == []


def test_runner_stores_posts_once_records_auth_failure_and_readyz_lists_it(
    api_server: ApiServer, factory, scorer, now
) -> None:
    with factory() as session, session.begin():
        brand = add_brand(session, "ノロシ珈琲", ["ノロシ珈琲", "Noroshi Coffee"], now)
        settings = {"base_url": api_server.base, "brands": [brand.id], "retry_wait_seconds": 0.01}
        source_id = add_source(session, "x-main", now, kind="x", settings=settings).id
    runner = SourceRunner(factory, MentionIngestor(scorer), secrets={"x_bearer_token": TOKEN})
    api_server.reply(
        "GET", PATH, Reply(fixture("x", "search_page1.json")), Reply(fixture("x", "search_page2.json"))
    )
    assert runner.run(source_id, now).stored == 3
    api_server.reply("GET", PATH, Reply(fixture("x", "search_page1.json")))  # the same tweets again
    again = runner.run(source_id, now + timedelta(minutes=5))
    assert again.ok and again.stored == 0
    assert api_server.requests[-1].param("since_id") == "1861925087391047684"
    assert api_server.requests[-1].param("query") == '("ノロシ珈琲" OR "Noroshi Coffee") -is:retweet'

    context = ApiContext(factory=factory, ingestor=MentionIngestor(scorer), clock=lambda: now)
    with TestClient(create_app(context)) as client:
        assert client.get("/readyz").json()["checks"]["sources"] == "ok"

    api_server.reply("GET", PATH, Reply(fixture("x", "unauthorized.json"), 401))
    failed = runner.run(source_id, now + timedelta(minutes=10))
    assert not failed.ok
    with factory() as session:
        assert session.scalar(select(func.count(Mention.id))) == 3
        source = session.get(Source, source_id)
        assert source.last_error == ("SourceAuthError: x: 401 Unauthorized — check NOROSHI_X_BEARER_TOKEN")
        assert source.consecutive_failures == 1
    with TestClient(create_app(context)) as client:
        ready = client.get("/readyz").json()
    assert ready["checks"]["sources"] == f"auth failed: x-main (id {source_id})"


def test_runner_waits_exactly_until_the_rate_limit_resets(
    api_server: ApiServer, factory, scorer, now
) -> None:
    with factory() as session, session.begin():
        add_brand(session, "ノロシ珈琲", ["ノロシ珈琲"], now)
        source_id = add_source(session, "x", now, kind="x", settings={"base_url": api_server.base}).id
    reset = now + timedelta(minutes=9, seconds=17)
    headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(reset.timestamp()))}
    api_server.reply("GET", PATH, Reply(fixture("x", "too_many_requests.json"), 429, headers))
    runner = SourceRunner(factory, MentionIngestor(scorer), secrets={"x_bearer_token": TOKEN})
    assert not runner.run(source_id, now).ok
    assert runner.run(source_id, reset - timedelta(seconds=1)).skipped_run
    assert len(api_server.requests) == 1
    with factory() as session:
        source = session.get(Source, source_id)
        assert source.next_run_at == reset and "rate limit" in (source.last_error or "")


def test_pages_per_run_limit_continues_the_sweep_next_run(api_server: ApiServer) -> None:
    api_server.reply("GET", PATH, Reply(fixture("x", "search_page1.json")))
    source = _source(api_server, max_pages=1)
    first = source.fetch(None, NOW)
    assert len(first.posts) == 2 and len(api_server.requests) == 1
    api_server.reply("GET", PATH, Reply(fixture("x", "search_page2.json")))
    second = source.fetch(first.cursor, NOW + timedelta(minutes=5))
    assert api_server.requests[-1].param("next_token") == "b26v89c19zqg8o3fpzbkk0wj2k1m1x1p5o8ly7hmwjrb1"
    assert api_server.requests[-1].param("since_id") is None  # the same query as the interrupted sweep
    assert [p.external_id for p in second.posts] == ["1861920000000000001"]
    api_server.reply("GET", PATH, Reply(fixture("x", "search_empty.json")))
    source.fetch(second.cursor, NOW + timedelta(minutes=10))
    assert api_server.requests[-1].param("since_id") == "1861925087391047684"  # newest of the whole sweep
    assert api_server.requests[-1].param("next_token") is None
