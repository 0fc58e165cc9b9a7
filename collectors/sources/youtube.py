"""Kind "youtube": YouTube Data API v3 `commentThreads.list` for chosen videos and/or channels.

- Auth: API key NOROSHI_YOUTUBE_API_KEY (secret "youtube_api_key") in the `X-Goog-Api-Key` header
  (equivalent to the `key` parameter, but request URLs are logged by httpx and keys must not be).
- One target per entry of `video_ids` (`videoId=`) and `channel_ids` (`allThreadsRelatedToChannelId=`):
  `GET {base_url}/youtube/v3/commentThreads?part=snippet&order=time&maxResults=100&textFormat=plainText`
  with `pageToken` for older pages. Comments are not keyword-searched by the API: every top-level
  comment is collected and the matcher keeps those that mention a brand.
- Cursor per target: publishedAt of the newest comment of the last sweep (+ the ids at that instant).
- Posts: external_id = thread id, text = textOriginal (else textDisplay), author = authorDisplayName,
  url = the video with `lc=<comment id>`. Like counts are not reposts and the API gives no subscriber
  count with a comment, so reposts and author_followers stay None.
- Errors: 403 quotaExceeded / dailyLimitExceeded → wait until the next midnight Pacific time (when the
  daily quota resets); 403 rateLimitExceeded / userRateLimitExceeded → wait a minute; 403
  commentsDisabled / 404 videoNotFound / channelNotFound → that target is skipped with a health
  entry; 400 API_KEY_INVALID / keyInvalid and other 401/403 → an auth failure naming
  NOROSHI_YOUTUBE_API_KEY.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field, model_validator

from collectors.posts import RawPost
from collectors.sources.base import SourceAuthError, SourceError, register_source_kind
from collectors.sources.webapi import (
    ApiClient,
    ApiSource,
    ApiSourceSettings,
    Item,
    Page,
    RateLimited,
    Target,
    parse_time,
    time_key,
)

SECRET = "youtube_api_key"
ENV = "NOROSHI_YOUTUBE_API_KEY"
PACIFIC = ZoneInfo("America/Los_Angeles")


class YouTubeSettings(ApiSourceSettings):
    base_url: str = "https://www.googleapis.com"
    video_ids: list[str] = Field(default_factory=list)
    channel_ids: list[str] = Field(default_factory=list)
    max_results: int = Field(default=100, ge=1, le=100)

    @model_validator(mode="after")
    def _some_target(self) -> YouTubeSettings:
        if not self.video_ids and not self.channel_ids:
            raise ValueError("video_ids or channel_ids must list at least one id")
        return self


def next_pacific_midnight(now: datetime) -> datetime:
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=PACIFIC)
    return midnight.astimezone(now.tzinfo)


def _reasons(response: httpx.Response) -> list[str]:
    """error.errors[].reason and error.details[].reason (Google's newer ErrorInfo) of an error body."""
    try:
        error = response.json()["error"]
        listed = [*(error.get("errors") or []), *(error.get("details") or [])]
        return [str(item["reason"]) for item in listed if isinstance(item, dict) and item.get("reason")]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


class _Unavailable(SourceError):
    """This video or channel cannot be read (comments disabled, not found): skip it, go on."""


def _quota(now: datetime) -> datetime:
    return next_pacific_midnight(now)


def _minute(now: datetime) -> datetime:
    return now + timedelta(minutes=1)


# error reason → when to come back (None = the target is unavailable, skip it)
RETRY_REASONS = {
    "quotaExceeded": _quota,
    "dailyLimitExceeded": _quota,
    "rateLimitExceeded": _minute,
    "userRateLimitExceeded": _minute,
}
UNAVAILABLE_REASONS = frozenset({"commentsDisabled", "videoNotFound", "channelNotFound", "forbidden"})
AUTH_REASONS = frozenset({"keyInvalid", "API_KEY_INVALID", "keyExpired", "accessNotConfigured"})


class YouTubeClient(ApiClient):
    def check(self, response: httpx.Response, now: datetime) -> None:
        if response.is_success:
            return
        reasons = _reasons(response)
        status = response.status_code
        for reason in reasons:
            if reason in RETRY_REASONS:
                until = RETRY_REASONS[reason](now)
                raise RateLimited(f"youtube: {reason} until {until.isoformat()}", retry_after=until)
            if reason in AUTH_REASONS:
                raise SourceAuthError(f"youtube: {status} {reason} — check {ENV}")
            if reason in UNAVAILABLE_REASONS:
                raise _Unavailable(f"{status} {reason}")
        if status == 404:
            raise _Unavailable(f"404 {response.reason_phrase}")
        super().check(response, now)


def _thread(thread: Any) -> Item:
    if not isinstance(thread, dict) or not isinstance(thread.get("id"), str):
        return Item(None, "?", None, "comment thread without an id")
    ref = thread["id"]
    top = ((thread.get("snippet") or {}).get("topLevelComment") or {}).get("snippet")
    if not isinstance(top, dict):
        return Item(None, ref, None, "thread without snippet.topLevelComment.snippet")
    try:
        posted_at = parse_time(top.get("publishedAt"))
    except ValueError as exc:
        return Item(None, ref, None, str(exc))
    text = top.get("textOriginal") or top.get("textDisplay")
    if not isinstance(text, str) or not text.strip():
        return Item(time_key(posted_at), ref, None, "comment without text")
    video = top.get("videoId") or (thread.get("snippet") or {}).get("videoId")
    comment_id = ((thread.get("snippet") or {}).get("topLevelComment") or {}).get("id") or ref
    post = RawPost(
        external_id=ref,
        posted_at=posted_at,
        text=text.strip(),
        author=top.get("authorDisplayName") if isinstance(top.get("authorDisplayName"), str) else None,
        url=f"https://www.youtube.com/watch?v={video}&lc={comment_id}" if video else None,
    )
    return Item(time_key(posted_at), ref, post)


@register_source_kind("youtube", YouTubeSettings, context=True)
class YouTubeSource(ApiSource):
    """YouTube comment threads of chosen videos and channels."""

    kind: ClassVar[str] = "youtube"
    settings: YouTubeSettings

    def client(self, http: httpx.Client) -> ApiClient:
        return YouTubeClient("youtube", self.settings, http, None, ENV)

    def targets(self) -> list[Target]:
        videos = [Target(f"video:{v}", v) for v in self.settings.video_ids]
        return videos + [Target(f"channel:{c}", c) for c in self.settings.channel_ids]

    def prepare(self, api: ApiClient, now: datetime) -> None:
        if not self.secrets.get(SECRET):
            raise SourceAuthError(f"youtube: no API key — set {ENV}")

    def fetch_page(
        self, api: ApiClient, target: Target, token: str | None, floor: str | None, now: datetime
    ) -> Page:
        params: dict[str, Any] = {
            "part": "snippet",
            "order": "time",
            "maxResults": self.settings.max_results,
            "textFormat": "plainText",
        }
        field = "videoId" if target.label.startswith("video:") else "allThreadsRelatedToChannelId"
        params[field] = target.query
        if token:
            params["pageToken"] = token
        try:
            response = api.get(
                self.settings.base_url + "/youtube/v3/commentThreads",
                now=now,
                params=params,
                headers={"X-Goog-Api-Key": self.secrets[SECRET]},  # not `key=`: URLs end up in logs
            )
        except _Unavailable as exc:
            return Page([Item(None, target.label, None, f"unavailable: {exc}")], None)
        data = response.json()
        items = [_thread(thread) for thread in data.get("items") or []]
        return Page(items, data.get("nextPageToken") or None)
