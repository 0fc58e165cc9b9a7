"""The bluesky kind against a local server replaying app.bsky.feed.searchPosts payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from collectors.matching import BrandRule
from collectors.sources.base import SourceAuthError, build_source
from collectors.sources.webapi import RateLimited
from tests.collectors.apiserver import ApiServer, Reply, auth_failure_in_health, fixture, run_api_server

api_server_fixture = pytest.fixture(name="api_server")(run_api_server)
NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
PROFILES = "/xrpc/app.bsky.actor.getProfiles"
RULES = [BrandRule(1, ["ノロシ珈琲"])]
SECRETS = {"bluesky_handle": "noroshi-bot.bsky.social", "bluesky_app_password": "abcd-efgh-ijkl-mnop"}


def _source(server: ApiServer, secrets=None, rules=RULES, **settings):  # type: ignore[no-untyped-def]
    config = {"base_url": server.base, "pds_url": server.base + "/pds", "retry_wait_seconds": 0.01}
    return build_source("bluesky", config | settings, brands=rules, secrets=secrets or {})


def test_search_pages_fill_followers_and_skip_malformed_posts(api_server: ApiServer) -> None:
    api_server.reply(
        "GET",
        SEARCH,
        Reply(fixture("bluesky", "search_page1.json")),
        Reply(fixture("bluesky", "search_page2.json")),
    )
    api_server.reply("GET", PROFILES, Reply(fixture("bluesky", "profiles.json")))
    result = _source(api_server).fetch(None, NOW)

    first, second = api_server.to(SEARCH)
    assert first.query == {"q": ["ノロシ珈琲"], "sort": ["latest"], "limit": ["100"]}
    assert "authorization" not in first.headers  # the public AppView, anonymously
    assert second.param("cursor") == "25"
    profiles = api_server.to(PROFILES)[0]
    assert profiles.query["actors"] == [
        "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
        "did:plc:4x5sxjqh7ejnllnsbwl7gpyc",
    ]

    jane, sakura = result.posts
    assert sakura.external_id == "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3lbxkq2cbhs2k"
    assert sakura.author == "sakura.bsky.social" and sakura.author_followers == 1520
    assert sakura.reposts == 14 and sakura.lang == "ja"
    assert sakura.posted_at == datetime(2026, 11, 21, 5, 58, 0, 123000, tzinfo=UTC)
    assert sakura.url == "https://bsky.app/profile/sakura.bsky.social/post/3lbxkq2cbhs2k"
    assert jane.author_followers == 87 and jane.lang == "en"
    ((ref, reason),) = result.skipped
    assert ref.endswith("3lbxb7bxc5k2o") and "bad time" in reason


def test_next_run_searches_since_the_newest_post_without_repeating_it(api_server: ApiServer) -> None:
    api_server.reply(
        "GET",
        SEARCH,
        Reply(fixture("bluesky", "search_page1.json")),
        Reply(fixture("bluesky", "search_page2.json")),
    )
    source = _source(api_server, fetch_followers=False)
    first = source.fetch(None, NOW)
    assert api_server.to(PROFILES) == []
    api_server.reply("GET", SEARCH, Reply(fixture("bluesky", "search_newer.json")))
    second = source.fetch(first.cursor, NOW + timedelta(minutes=15))
    assert api_server.requests[-1].param("since") == "2026-11-21T05:58:01.456000Z"
    # `since` is inclusive: the post at that instant comes back and is recognised.
    assert [p.external_id for p in second.posts] == [
        "at://did:plc:q6gjnaw2blty4crticxkmujt/app.bsky.feed.post/3lby2fkx4ns2v"
    ]
    assert second.posts[0].author_followers is None  # not in the search response


def test_app_password_session_at_the_pds(api_server: ApiServer) -> None:
    session = fixture("bluesky", "session.json")
    api_server.reply("POST", "/pds/xrpc/com.atproto.server.createSession", Reply(session))
    api_server.reply("GET", "/pds" + SEARCH, Reply(fixture("bluesky", "search_newer.json")))
    api_server.reply("GET", "/pds" + PROFILES, Reply({"profiles": []}))
    result = _source(api_server, SECRETS).fetch(None, NOW)
    login = api_server.requests[0]
    assert json.loads(login.body) == {
        "identifier": "noroshi-bot.bsky.social",
        "password": "abcd-efgh-ijkl-mnop",
    }
    search = api_server.to("/pds" + SEARCH)[0]
    assert search.headers["authorization"] == f"Bearer {session['accessJwt']}"
    assert len(result.posts) == 2 and api_server.to(SEARCH) == []


def test_wrong_app_password_is_an_auth_failure_in_health(api_server: ApiServer, factory, scorer, now) -> None:
    api_server.reply(
        "POST",
        "/pds/xrpc/com.atproto.server.createSession",
        Reply(fixture("bluesky", "auth_error.json"), 401),
    )
    with pytest.raises(SourceAuthError):
        _source(api_server, SECRETS).fetch(None, NOW)
    settings = {"base_url": api_server.base, "pds_url": api_server.base + "/pds"}
    error = auth_failure_in_health(factory, scorer, now, "bluesky", settings, SECRETS)
    assert error == (
        "SourceAuthError: bluesky: 401 Unauthorized — check "
        "NOROSHI_BLUESKY_HANDLE / NOROSHI_BLUESKY_APP_PASSWORD"
    )


def test_rate_limit_headers(api_server: ApiServer) -> None:
    reset = NOW + timedelta(minutes=5)
    headers = {
        "ratelimit-limit": "3000",
        "ratelimit-remaining": "0",
        "ratelimit-reset": str(int(reset.timestamp())),
    }
    headers["ratelimit-policy"] = "3000;w=300"
    api_server.reply("GET", SEARCH, Reply(fixture("bluesky", "search_page1.json"), headers=headers))
    source = _source(api_server)
    result = source.fetch(None, NOW)
    assert len(result.posts) == 2 and api_server.to(PROFILES) == []  # no call while the budget is spent
    assert result.cursor is not None and result.cursor["wait_until"] == reset.isoformat()
    assert source.fetch(result.cursor, NOW + timedelta(minutes=4)).posts == []
    assert len(api_server.requests) == 1

    api_server.reply("GET", SEARCH, Reply(fixture("bluesky", "rate_limit.json"), 429, headers))
    with pytest.raises(RateLimited) as caught:
        source.fetch(None, NOW)
    assert caught.value.retry_after == reset
