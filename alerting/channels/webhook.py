"""Outgoing webhooks: incident events as JSON, signed Standard-Webhooks style, retried by the outbox.

The notification's target is a webhook subscription id (resolved to URL + secrets through a loader,
normally `SubscriptionStore`) or, with a fixed `secret`, the URL itself. During a secret rotation the
payload is signed with both the new and the previous secret until the previous one expires.

Replies map to outcomes in one table: 2xx done; 410 Gone permanent and the subscription disabled
(the receiver said it is gone for good); 408/429/5xx and network errors retried (honouring
Retry-After); redirects and other 4xx permanent (a retry would get the same answer).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import httpx
from sqlalchemy.orm import Session, sessionmaker

from alerting.channels.base import DeliveryResult, OutgoingNotification
from alerting.outbox import Filtered
from alerting.webhook_signing import signed_headers
from storage.notifications import WebhookSubscription

log = logging.getLogger(__name__)
USER_AGENT = "Noroshi-Webhooks/1"
MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    url: str
    secrets: list[str]  # the current secret first, then a rotated-out one still within its grace period
    events: list[str]  # empty = every event
    enabled: bool = True


class SubscriptionStore:
    """Webhook subscriptions from the database (`target` = subscription id)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def resolve(self, target: str, now: datetime) -> WebhookTarget | None:
        if not target.isdigit():
            return None
        with self.factory() as session:
            sub = session.get(WebhookSubscription, int(target))
            if sub is None:
                return None
            secrets = [sub.secret]
            expires = sub.previous_secret_expires_at
            if sub.previous_secret and (expires is None or expires > now):
                secrets.append(sub.previous_secret)
            return WebhookTarget(sub.url, secrets, list(sub.events or []), sub.enabled)

    def disable(self, target: str) -> None:
        with self.factory() as session, session.begin():
            sub = session.get(WebhookSubscription, int(target))
            if sub is not None:
                sub.enabled = False


def webhook_id(idempotency_key: str) -> str:
    """The same for every attempt of one notification, so a receiver can drop duplicates."""
    return "msg_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def payload(notification: OutgoingNotification, now: datetime) -> dict[str, Any]:
    """{type, timestamp, data}: the incident context without the rendered runbook HTML."""
    data = dict(notification.context)
    if isinstance(data.get("runbook"), dict):
        data["runbook"] = {k: v for k, v in data["runbook"].items() if k != "html"}
    return {
        "type": f"incident.{notification.event}",
        "timestamp": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def _retry_after(response: httpx.Response, now: datetime) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


# (predicate on the status code, outcome): the first match wins.
STATUS_TABLE: tuple[tuple[Callable[[int], bool], str], ...] = (
    (lambda code: 200 <= code < 300, "ok"),
    (lambda code: code == 410, "gone"),
    (lambda code: code in (408, 425, 429) or code >= 500, "retry"),
    (lambda code: True, "permanent"),  # 3xx (not followed) and other 4xx
)


class WebhookChannel:
    kind: ClassVar[str] = "webhook"

    def __init__(
        self,
        http: httpx.Client,
        subscriptions: SubscriptionStore | None = None,
        *,
        secret: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if subscriptions is None and not secret:
            raise ValueError("WebhookChannel needs a subscription store or a secret")
        self.http, self.subscriptions, self._secret, self.clock = http, subscriptions, secret, clock

    def _target(self, target: str, now: datetime) -> WebhookTarget | None:
        if self.subscriptions is not None:
            return self.subscriptions.resolve(target, now)
        return WebhookTarget(target, [self._secret or ""], [])

    def deliver(self, notification: OutgoingNotification) -> DeliveryResult:
        now = self.clock()
        target = self._target(notification.target, now)
        if target is None or not target.enabled:
            return DeliveryResult(
                ok=False, permanent=True, error=f"webhook {notification.target} is gone or disabled"
            )
        if target.events and notification.event not in target.events:
            # The planner records unsubscribed events as `filtered` itself; this is a row written before
            # the subscription changed. Finished, but not `sent`: nothing was delivered.
            return Filtered(error=f"not subscribed to {notification.event}")
        body = json.dumps(payload(notification, now), ensure_ascii=False, separators=(",", ":")).encode()
        headers = signed_headers(
            target.secrets, webhook_id(notification.idempotency_key), int(now.timestamp()), body
        )
        headers |= {"content-type": "application/json; charset=utf-8", "user-agent": USER_AGENT}
        try:
            response = self.http.post(target.url, content=body, headers=headers, follow_redirects=False)
        except httpx.HTTPError as exc:  # timeouts, refused connections, TLS errors: try again later
            return DeliveryResult(ok=False, error=f"webhook {type(exc).__name__}: {exc}"[:500])
        outcome = next(result for test, result in STATUS_TABLE if test(response.status_code))
        error = None if outcome == "ok" else f"webhook answered HTTP {response.status_code}"
        if outcome == "gone" and self.subscriptions is not None:
            self.subscriptions.disable(notification.target)
            log.warning("webhook subscription %s answered 410 Gone: disabled", notification.target)
        return DeliveryResult(
            ok=outcome == "ok",
            permanent=outcome in ("gone", "permanent"),
            retry_after_seconds=_retry_after(response, now) if outcome == "retry" else None,
            error=error,
            state=dict(notification.state) if outcome == "ok" else None,
        )
