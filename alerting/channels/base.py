"""The contract between the outbox (what to send, when, how often) and a channel (how to send it).

The outbox hands a channel one `OutgoingNotification` at a time and records the `DeliveryResult`:
retry later (with the channel's own Retry-After if it gave one), give up (permanent), or done. A channel
keeps per-incident state it needs next time — the Slack message `ts` to edit in place, the thread to
reply in — by returning it in `DeliveryResult.state`; the outbox stores it and passes it back as
`OutgoingNotification.state` on the next notification for the same incident and channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

# Why a notification is sent (the notify decision's reasons plus human actions). "campaign_summary":
# a campaign window ended; `context["campaign"]` lists its incidents (context is the worst one's).
EVENTS = (
    "triggered",
    "escalated",
    "flared_again",  # an open incident's event flared again after resting (再燃: a second wave)
    "reminder",
    "acknowledged",
    "snoozed",
    "resolved",
    "commented",
    "campaign_summary",
)


@dataclass(frozen=True)
class OutgoingNotification:
    notification_id: int
    incident_id: int
    channel: str  # "slack" | "email" | "webhook"
    target: str  # Slack channel id or user/group, e-mail address(es), webhook URL
    event: str  # one of EVENTS
    idempotency_key: str  # incident × channel × target × event sequence; the same key is never sent twice
    attempt: int  # 1 on the first try
    context: dict[str, Any]  # the incident as rendered for people (see alerting.summary), JSON-serialisable
    state: dict[str, Any] = field(default_factory=dict)  # what this channel remembered for this incident


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    retry_after_seconds: float | None = None  # the peer asked us to wait (Slack 429 Retry-After)
    permanent: bool = False  # retrying cannot help (invalid_auth, channel_not_found, 4xx): dead-letter now
    error: str | None = None
    state: dict[str, Any] | None = None  # replaces the channel's remembered state for this incident


class Channel(Protocol):
    kind: ClassVar[str]

    def deliver(self, notification: OutgoingNotification) -> DeliveryResult: ...
