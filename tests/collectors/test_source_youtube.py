"""The youtube kind against a local server replaying YouTube Data API v3 commentThreads payloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collectors.sources.base import SourceConfigError, build_source
from collectors.sources.webapi import RateLimited
from collectors.sources.youtube import next_pacific_midnight
from tests.collectors.apiserver import ApiServer, Reply, auth_failure_in_health, fixture, run_api_server

api_server_fixture = pytest.fixture(name="api_server")(run_api_server)
NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
PATH = "/youtube/v3/commentThreads"
KEY = "AIzaSyD-test-key-0000000000000000000"


def _source(server: ApiServer, **settings):  # type: ignore[no-untyped-def]
    config = {"base_url": server.base, "retry_wait_seconds": 0.01, "video_ids": ["Nq3rW8xYz1A"]} | settings
    return build_source("youtube", config, secrets={"youtube_api_key": KEY})


def _by_target(video: str | None = None, channel: str | None = None):  # type: ignore[no-untyped-def]
    def handle(request):  # type: ignore[no-untyped-def]
        asked = request.param("videoId") or request.param("allThreadsRelatedToChannelId")
        if asked in (video, channel):
            if request.param("pageToken"):
                return Reply(fixture("youtube", "threads_page2.json"))
            return Reply(fixture("youtube", "threads_page1.json"))
        return Reply(fixture("youtube", "comments_disabled.json"), 403)

    return handle


def test_comment_threads_by_time_with_page_tokens(api_server: ApiServer) -> None:
    api_server.reply("GET", PATH, _by_target(video="Nq3rW8xYz1A"))
    result = _source(api_server, video_ids=["Nq3rW8xYz1A", "disabled0001"]).fetch(None, NOW)

    first, second, disabled = api_server.to(PATH)
    assert first.query == {
        "part": ["snippet"],
        "order": ["time"],
        "maxResults": ["100"],
        "textFormat": ["plainText"],
        "videoId": ["Nq3rW8xYz1A"],
    }
    assert first.headers["x-goog-api-key"] == KEY  # not in the URL
    assert second.param("pageToken") == "QURTSl9pM3VfOEZQS0pCbWtZbU5BbFZSZkF4ZFJ4NjJ0QQ=="
    assert disabled.param("videoId") == "disabled0001"

    older, complaint = result.posts
    assert complaint.external_id == "UgzQ1xN4YmB3pR7kT9h4AaABAg" and complaint.author == "@sakura_cafe"
    assert complaint.text == "この動画の店員、ノロシ珈琲の渋谷店ですよね？ 最悪…"
    assert complaint.posted_at == datetime(2026, 11, 21, 5, 50, 31, tzinfo=UTC)
    assert complaint.url == "https://www.youtube.com/watch?v=Nq3rW8xYz1A&lc=UgzQ1xN4YmB3pR7kT9h4AaABAg"
    assert older.text == "Love Noroshi Coffee's latte art"
    assert result.skipped == [
        ("UgyBrokenThread0000000000", "thread without snippet.topLevelComment.snippet"),
        ("video:disabled0001", "unavailable: 403 commentsDisabled"),
    ]


def test_next_run_stops_at_the_newest_comment_seen(api_server: ApiServer) -> None:
    api_server.reply("GET", PATH, _by_target(channel="UCnoroshiCoffeeOfficial00"))
    source = _source(api_server, video_ids=[], channel_ids=["UCnoroshiCoffeeOfficial00"])
    first = source.fetch(None, NOW)
    assert api_server.requests[0].param("allThreadsRelatedToChannelId") == "UCnoroshiCoffeeOfficial00"
    api_server.reply("GET", PATH, Reply(fixture("youtube", "threads_newer.json")))
    second = source.fetch(first.cursor, NOW + timedelta(minutes=30))
    assert [p.external_id for p in second.posts] == ["UgwNewer00000000000000004AaABAg"]
    assert api_server.requests[-1].param("pageToken") is None


def test_quota_exceeded_waits_until_pacific_midnight(api_server: ApiServer) -> None:
    api_server.reply("GET", PATH, Reply(fixture("youtube", "quota_exceeded.json"), 403))
    with pytest.raises(RateLimited) as caught:
        _source(api_server).fetch(None, NOW)
    assert caught.value.retry_after == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # 00:00 PST
    assert len(api_server.requests) == 1  # a quota error is not retried
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # 05:00 PDT
    assert next_pacific_midnight(summer) == datetime(2026, 7, 2, 7, 0, tzinfo=UTC)


def test_500_is_retried(api_server: ApiServer) -> None:
    api_server.reply(
        "GET",
        PATH,
        Reply({"error": {"code": 500, "message": "Backend Error"}}, 500),
        Reply({"error": {"code": 503, "message": "The service is currently unavailable."}}, 503),
        Reply(fixture("youtube", "threads_newer.json")),
    )
    result = _source(api_server).fetch(None, NOW)
    assert len(api_server.requests) == 3 and len(result.posts) == 2


def test_settings_need_a_target() -> None:
    with pytest.raises(SourceConfigError, match="video_ids or channel_ids"):
        build_source("youtube", {})


def test_invalid_key_is_an_auth_failure_in_health(api_server: ApiServer, factory, scorer, now) -> None:
    api_server.reply("GET", PATH, Reply(fixture("youtube", "key_invalid.json"), 400))
    settings = {"base_url": api_server.base, "video_ids": ["Nq3rW8xYz1A"]}
    error = auth_failure_in_health(factory, scorer, now, "youtube", settings, {"youtube_api_key": "bad"})
    assert error == "SourceAuthError: youtube: 400 API_KEY_INVALID — check NOROSHI_YOUTUBE_API_KEY"
