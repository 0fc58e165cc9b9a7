"""Slack delivery: one card per incident and target, edited in place, with the timeline in its thread.

`SlackChannel` (bot token, Web API):
- no remembered message for this incident × target → ``chat.postMessage`` of the card; the returned
  ``{"channel", "ts"}`` is handed back as state and stored by the outbox;
- otherwise → ``chat.update`` of that message (current status, severity, numbers, buttons), then a thread
  reply (``chat.postMessage`` with ``thread_ts``) with the timeline line; escalations, reminders and
  resolves are also broadcast to the channel (``reply_broadcast``) so a resolve is announced where the
  trigger was.
The update runs before the reply because it is idempotent: if the reply fails, the outbox retries the
whole delivery and the only repeated call is a harmless re-update, never a second thread reply.

Retries belong to the outbox alone. The WebClient is built with ``retry_handlers=[]``: slack-sdk's
default ConnectionErrorRetryHandler would silently re-send a ``chat.postMessage`` whose response was
lost (a duplicate card), and its RateLimitErrorRetryHandler would sleep through a 429 inside the
delivery loop instead of letting the outbox schedule the retry at Retry-After. Errors map to results:
429 / ``ratelimited`` → retry after the Retry-After header; auth and channel errors → permanent;
5xx, timeouts and connection errors → retry with the outbox's backoff.

`SlackWebhookChannel` (incoming webhook) is the simpler alternative: it posts the same card, but an
incoming webhook cannot edit a message or reply in a thread, so every event is a new message with the
event line on top, and the target is fixed by the webhook URL (`notification.target` is ignored).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.error import URLError

from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse, WebClient
from slack_sdk.webhook import WebhookClient

from alerting.channels.base import DeliveryResult, OutgoingNotification
from alerting.channels.slack_blocks import build_card, thread_line

log = logging.getLogger(__name__)

# Retrying cannot help: the token, the app or the channel is wrong. Dead-letter and let a person look.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "user_not_found",
        "invalid_blocks",
        "invalid_attachments",
        "msg_too_long",
        "invalid_arguments",
        "restricted_action",
    }
)
# Slack's own transient failures, reported with HTTP 200 and ok=false.
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
# The remembered message is gone (deleted by someone): post a fresh card instead of failing forever.
MESSAGE_GONE = frozenset({"message_not_found", "cant_update_message"})

# event → (thread reply, also broadcast to the channel). Unknown events get a quiet thread reply.
EVENT_POLICY: dict[str, tuple[bool, bool]] = {
    "triggered": (True, True),  # with a card already there: the snooze ran out, it needs eyes again
    "escalated": (True, True),
    "flared_again": (True, True),  # as loud as an escalation: a second wave needs eyes again
    "reminder": (True, True),
    "acknowledged": (True, False),
    "snoozed": (True, False),
    "resolved": (True, True),
    "commented": (True, False),
    "campaign_summary": (True, True),
}

DEFAULT_RETRY_AFTER_SECONDS = 1.0  # `ratelimited` without a Retry-After: Slack's ~1 message/s per channel
DEFAULT_TIMEOUT_SECONDS = 10.0


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list | tuple) else value)
    return None


def _retry_after(headers: Mapping[str, Any] | None) -> float:
    raw = _header(headers, "Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else DEFAULT_RETRY_AFTER_SECONDS
    except ValueError:
        return DEFAULT_RETRY_AFTER_SECONDS


def classify(
    status: int, error: str | None, headers: Mapping[str, Any] | None, method: str
) -> DeliveryResult:
    """A failed Slack call → what the outbox should do about it."""
    message = f"slack {method}: {error or 'error'} (HTTP {status})"
    if status == 429 or error == "ratelimited":
        return DeliveryResult(ok=False, retry_after_seconds=_retry_after(headers), error=message)
    if error in PERMANENT_ERRORS:
        return DeliveryResult(ok=False, permanent=True, error=message)
    if status >= 500 or error in TRANSIENT_ERRORS:
        return DeliveryResult(ok=False, error=message)
    if 400 <= status < 500:
        return DeliveryResult(ok=False, permanent=True, error=message)
    # An API error we do not know (HTTP 200, ok=false): retry; the outbox dead-letters after its limit.
    return DeliveryResult(ok=False, error=message)


def _api_error(exc: SlackApiError, method: str) -> DeliveryResult:
    response: SlackResponse = exc.response
    data = response.data if isinstance(response.data, dict) else {}
    return classify(response.status_code, data.get("error"), response.headers, method)


class _MessageGone(Exception):
    """chat.update found no message to edit."""


class SlackChannel:
    kind: ClassVar[str] = "slack"

    def __init__(
        self,
        token: str,
        base_url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        url = base_url or WebClient.BASE_URL
        self._client = WebClient(
            token=token,
            base_url=url if url.endswith("/") else url + "/",
            timeout=max(1, round(timeout)),  # slack-sdk takes whole seconds; 0 would mean non-blocking
            retry_handlers=[],  # see the module docstring: the outbox owns retries and Retry-After
        )

    def deliver(self, notification: OutgoingNotification) -> DeliveryResult:
        method = "chat.postMessage"
        try:
            state = notification.state or {}
            if state.get("ts") and state.get("channel"):
                method = "chat.update"
                try:
                    return self._update(notification, str(state["channel"]), str(state["ts"]))
                except _MessageGone:
                    log.warning(
                        "slack message for incident %s is gone; posting a new card", notification.incident_id
                    )
                    method = "chat.postMessage"
            return self._post_card(notification)
        except SlackApiError as exc:
            return _api_error(exc, method)
        except (URLError, OSError) as exc:  # connection refused/reset, DNS, timeouts (socket.timeout)
            return DeliveryResult(ok=False, error=f"slack {method}: {type(exc).__name__}: {exc}")

    def _post_card(self, notification: OutgoingNotification) -> DeliveryResult:
        # A first message that is not the trigger (an escalation step's DM, a reminder, a campaign
        # summary) says on top why it arrives now.
        event = notification.event
        announcement = None if event == "triggered" else thread_line(event, notification.context)
        response = self._client.chat_postMessage(
            channel=notification.target,
            **build_card(notification.context, announcement=announcement),
            unfurl_links=False,
            unfurl_media=False,
            # Lets a person (or a later dedup check) find which incident a message belongs to.
            metadata={
                "event_type": "noroshi_incident",
                "event_payload": {
                    "incident_id": notification.incident_id,
                    "key": notification.idempotency_key,
                },
            },
        )
        # A DM target ("U…") comes back as its "D…" channel: chat.update needs that one.
        state = {"channel": response["channel"], "ts": response["ts"]}
        return DeliveryResult(ok=True, state=state)

    def _update(self, notification: OutgoingNotification, channel: str, ts: str) -> DeliveryResult:
        try:
            self._client.chat_update(channel=channel, ts=ts, **build_card(notification.context))
        except SlackApiError as exc:
            if (exc.response.data or {}).get("error") in MESSAGE_GONE:
                raise _MessageGone from exc
            raise
        reply, broadcast = EVENT_POLICY.get(notification.event, (True, False))
        if reply:
            self._client.chat_postMessage(
                channel=channel,
                thread_ts=ts,
                text=thread_line(notification.event, notification.context),
                reply_broadcast=broadcast,
                unfurl_links=False,
            )
        return DeliveryResult(ok=True, state={"channel": channel, "ts": ts})

    def auth_test(self) -> dict[str, Any]:
        """Check the token (for a readiness check or `noroshi slack test`); raises SlackApiError."""
        return dict(self._client.auth_test().data)  # type: ignore[arg-type]


class SlackWebhookChannel:
    """Incoming-webhook mode: the same card, one new message per event (no edits, no threads)."""

    kind: ClassVar[str] = "slack"

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._client = WebhookClient(url, timeout=max(1, round(timeout)), retry_handlers=[])

    def deliver(self, notification: OutgoingNotification) -> DeliveryResult:
        announcement = None
        if notification.event != "triggered":
            announcement = thread_line(notification.event, notification.context)
        card = build_card(notification.context, announcement=announcement)
        try:
            response = self._client.send(
                text=card["text"], attachments=card["attachments"], unfurl_links=False
            )
        except (URLError, OSError) as exc:
            return DeliveryResult(ok=False, error=f"slack webhook: {type(exc).__name__}: {exc}")
        if response.status_code == 200:
            return DeliveryResult(ok=True, state={})
        # Webhook errors come as plain text bodies: invalid_payload, channel_not_found, no_service, …
        return classify(
            response.status_code, (response.body or "").strip() or None, response.headers, "webhook"
        )
