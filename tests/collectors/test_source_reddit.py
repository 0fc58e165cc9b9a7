"""The reddit kind against a local server replaying Reddit OAuth token and search Listing payloads."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from collectors.matching import BrandRule
from collectors.sources.base import build_source
from collectors.sources.reddit import build_queries
from collectors.sources.webapi import RateLimited
from tests.collectors.apiserver import ApiServer, Reply, auth_failure_in_health, fixture, run_api_server

api_server_fixture = pytest.fixture(name="api_server")(run_api_server)
NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
TOKEN_PATH = "/auth/api/v1/access_token"
RULES = [BrandRule(1, ["Noroshi Coffee", "ノロシ珈琲"])]
SECRETS = {"reddit_client_id": "p-jcoLKBynTLew", "reddit_client_secret": "gko_LXELoV07ZBNUXrvWZfzE3aI"}
UA = "linux:jp.noroshi.collector:0.1 (by /u/noroshi_ops)"


def _source(server: ApiServer, **settings):  # type: ignore[no-untyped-def]
    config = {
        "base_url": server.base,
        "auth_url": server.base + "/auth",
        "user_agent": UA,
        "retry_wait_seconds": 0.01,
    }
    return build_source("reddit", config | settings, brands=RULES, secrets=SECRETS)


def test_token_then_search_with_after_pagination(api_server: ApiServer) -> None:
    api_server.reply("POST", TOKEN_PATH, Reply(fixture("reddit", "token.json")))
    api_server.reply(
        "GET",
        "/search",
        Reply(fixture("reddit", "search_page1.json")),
        Reply(fixture("reddit", "search_page2.json")),
    )
    result = _source(api_server).fetch(None, NOW)

    token = api_server.to(TOKEN_PATH)[0]
    basic = base64.b64decode(token.headers["authorization"].removeprefix("Basic ")).decode()
    assert basic == "p-jcoLKBynTLew:gko_LXELoV07ZBNUXrvWZfzE3aI"
    assert parse_qs(token.body.decode()) == {"grant_type": ["client_credentials"]}
    assert token.headers["user-agent"] == UA
    first, second = api_server.to("/search")
    assert first.query == {
        "q": ['"Noroshi Coffee" OR ノロシ珈琲'],
        "sort": ["new"],
        "type": ["link"],
        "limit": ["100"],
        "raw_json": ["1"],
    }
    assert first.headers["authorization"] == "bearer " + fixture("reddit", "token.json")["access_token"]
    assert first.headers["user-agent"] == UA
    assert second.param("after") == "t3_1gw0k3n"

    beans, filming = result.posts
    assert filming.external_id == "t3_1gw1p8q" and filming.author == "u/tokyo_expat_92"
    assert filming.text.startswith("Noroshi Coffee staff filming customers?\nWent to the Shibuya store")
    assert filming.posted_at == datetime.fromtimestamp(1795067800, tz=UTC) and filming.reposts == 3
    assert (
        filming.url
        == "https://www.reddit.com/r/japanlife/comments/1gw1p8q/noroshi_coffee_staff_filming_customers/"
    )
    assert filming.author_followers is None
    assert beans.author is None and beans.text == "ノロシ珈琲 beans review"
    assert result.skipped == [("t3_1gvz9aa", "bad created_utc 'yesterday'")]


def test_next_run_stops_at_the_last_seen_post(api_server: ApiServer) -> None:
    api_server.reply("POST", TOKEN_PATH, Reply(fixture("reddit", "token.json")))
    api_server.reply(
        "GET",
        "/search",
        Reply(fixture("reddit", "search_page1.json")),
        Reply(fixture("reddit", "search_page2.json")),
    )
    source = _source(api_server)
    first = source.fetch(None, NOW)
    api_server.reply("GET", "/search", Reply(fixture("reddit", "search_newer.json")))
    second = source.fetch(first.cursor, NOW + timedelta(minutes=10))
    assert [p.external_id for p in second.posts] == ["t3_1gw2zzz"]
    assert second.cursor is not None
    (state,) = second.cursor["targets"].values()
    assert state["floor"] == "2026-11-19T06:16:40.000000Z" and state["next"] is None


def test_subreddit_and_comments(api_server: ApiServer) -> None:
    api_server.reply("POST", TOKEN_PATH, Reply(fixture("reddit", "token.json")))
    api_server.reply(
        "GET",
        "/r/japanlife/search",
        lambda request: Reply(
            fixture("reddit", "comments.json" if request.param("type") == "comment" else "search_newer.json")
        ),
    )
    result = _source(api_server, subreddit="japanlife", include_comments=True).fetch(None, NOW)
    requests = api_server.to("/r/japanlife/search")
    assert [(r.param("type"), r.param("restrict_sr")) for r in requests] == [("link", "1"), ("comment", "1")]
    comment = next(p for p in result.posts if p.external_id == "t1_lz9q2xk")
    assert (
        comment.text == "Noroshi Coffee used to be my favourite, not anymore."
        and comment.author == "u/kyoto_kate"
    )


def test_rate_limit_headers_count_seconds_until_reset(api_server: ApiServer) -> None:
    api_server.reply("POST", TOKEN_PATH, Reply(fixture("reddit", "token.json")))
    spent = {"X-Ratelimit-Used": "100", "X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "212"}
    api_server.reply("GET", "/search", Reply(fixture("reddit", "search_page1.json"), headers=spent))
    source = _source(api_server)
    result = source.fetch(None, NOW)
    assert len(result.posts) == 2 and len(api_server.to("/search")) == 1
    assert (
        result.cursor is not None
        and result.cursor["wait_until"] == (NOW + timedelta(seconds=212)).isoformat()
    )

    api_server.reply("GET", "/search", Reply({"message": "Too Many Requests", "error": 429}, 429, spent))
    with pytest.raises(RateLimited) as caught:
        source.fetch(None, NOW)
    assert caught.value.retry_after == NOW + timedelta(seconds=212)


def test_long_keyword_lists_are_split_into_several_queries() -> None:
    keywords = [f"keyword{i:02d}" for i in range(40)]
    queries = build_queries(keywords, 100)
    assert all(len(q) <= 100 for q in queries) and len(queries) > 1
    assert [kw for q in queries for kw in q.split(" OR ")] == keywords


def test_bad_credentials_are_an_auth_failure_in_health(api_server: ApiServer, factory, scorer, now) -> None:
    api_server.reply("POST", TOKEN_PATH, Reply(fixture("reddit", "token_unauthorized.json"), 401))
    settings = {"base_url": api_server.base, "auth_url": api_server.base + "/auth"}
    error = auth_failure_in_health(factory, scorer, now, "reddit", settings, SECRETS)
    assert error == (
        "SourceAuthError: reddit: 401 Unauthorized — check "
        "NOROSHI_REDDIT_CLIENT_ID / NOROSHI_REDDIT_CLIENT_SECRET"
    )
    assert api_server.to("/search") == []
