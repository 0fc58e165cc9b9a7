"""The notification outbox: rows written with the incident change, and the loop that delivers them.

Writing: `enqueue` inserts with ON CONFLICT DO NOTHING on the idempotency key, inside the caller's
transaction, so a notification exists iff the incident change committed, and writing it twice is a no-op.

Delivering (`OutboxWorker.run_once`), per row:
1. claim — in a short transaction, due rows (pending, or `sending` whose lease ran out after a crash) are
   locked with FOR UPDATE SKIP LOCKED on PostgreSQL, then moved to `sending` with a lease by a
   compare-and-set UPDATE (so two workers, on any database, never both claim a row). A row waits while
   an earlier row of the same incident × channel × target is unfinished: a Slack card is posted before
   it is edited.
2. send — outside any transaction, with the channel's remembered state (`ChannelState`).
3. record — sent / pending again after Retry-After or exponential backoff / dead after the attempt limit
   or a permanent error / filtered when the target no longer subscribes to the event; the channel's new
   state is stored in the same transaction.
A crash before 3 leaves the row `sending`; it is sent again once the lease expires (at-least-once: a
crash *after* the peer accepted and before 3 is the one window where a receiver sees a repeat, which
is why the idempotency key travels with every delivery).

`filtered` is terminal and never delivered: a decision the target's subscription leaves out
(`enqueue(filtered=True)`, written by the planner so the target's history stays complete) or a row whose
target stopped subscribing before it went out. It is not `sent`: nothing lists it as delivered.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from alerting.channels.base import Channel, DeliveryResult, OutgoingNotification
from storage.notifications import ChannelState, Notification
from storage.telemetry import Telemetry
from storage.upsert import insert_ignore

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
UNFINISHED = ("pending", "sending")
FILTERED = "filtered"  # finished without delivery: the target does not subscribe to the event


def notification_key(incident_id: int, channel: str, target: str, event: str, sequence: str | int) -> str:
    """incident × channel × target × event × sequence; long targets are hashed to fit the column."""
    if len(target) > 120:
        target = "sha1:" + hashlib.sha1(target.encode()).hexdigest()
    return f"incident:{incident_id}:{channel}:{target}:{event}:{sequence}"


def enqueue(
    session: Session,
    *,
    incident_id: int,
    channel: str,
    target: str,
    event: str,
    key: str,
    payload: dict[str, Any],
    now: datetime,
    bucket_closed_at: datetime | None = None,
    filtered: bool = False,
) -> bool:
    """Write one notification in the caller's transaction. False if that key was already written.

    `filtered`: a decision the target's subscription leaves out, written already finished: the worker
    never claims it, but it is part of what the target has been told (its next decision counts from
    here), under the key the delivery would have had, so replanning writes nothing new."""
    row = {
        "incident_id": incident_id,
        "channel": channel,
        "target": target,
        "event": event,
        "idempotency_key": key,
        "status": FILTERED if filtered else "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "payload": payload,
        "created_at": now,
        "bucket_closed_at": bucket_closed_at,
    }
    inserted = insert_ignore(session, Notification.__table__, [row], ["idempotency_key"], returning=["id"])
    return bool(inserted)


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    max_attempts: int = 8
    backoff_base_seconds: float = 5.0
    backoff_max_seconds: float = 900.0
    lease_seconds: float = 120.0  # longer than any channel's own timeout
    batch_size: int = 50


def backoff_seconds(attempt: int, config: DeliveryConfig) -> float:
    """5 s, 10 s, 20 s, … capped: the wait after failed attempt number `attempt` (1-based)."""
    return float(min(config.backoff_max_seconds, config.backoff_base_seconds * 2 ** max(attempt - 1, 0)))


@dataclass(frozen=True)
class Filtered(DeliveryResult):
    """A channel's answer for a row whose target no longer subscribes to its event (the subscription
    changed after the row was written): finished, nothing delivered, recorded as `filtered`."""

    ok: bool = True


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # sent | pending | dead | filtered
    next_attempt_at: datetime
    error: str | None


# (condition on result, attempt, config → status) — first match wins.
OUTCOME_TABLE: tuple[tuple[Callable[[DeliveryResult, int, DeliveryConfig], bool], str], ...] = (
    (lambda r, a, c: isinstance(r, Filtered), FILTERED),
    (lambda r, a, c: r.ok, "sent"),
    (lambda r, a, c: r.permanent, "dead"),
    (lambda r, a, c: a >= c.max_attempts, "dead"),
    (lambda r, a, c: True, "pending"),
)


TELEMETRY_RESULT = {"sent": "sent", "pending": "retry", "dead": "dead"}  # outcome status → metric label


def outcome(result: DeliveryResult, attempt: int, config: DeliveryConfig, now: datetime) -> Outcome:
    status = next(s for condition, s in OUTCOME_TABLE if condition(result, attempt, config))
    wait = (
        result.retry_after_seconds
        if result.retry_after_seconds is not None
        else backoff_seconds(attempt, config)
    )
    next_at = now + timedelta(seconds=max(wait, 0.0)) if status == "pending" else now
    if status == FILTERED:  # keep the channel's reason: it says why nothing went out
        return Outcome(status, next_at, result.error)
    return Outcome(status, next_at, None if result.ok else (result.error or "delivery failed"))


def load_state(session: Session, incident_id: int, channel: str, target: str) -> dict[str, Any]:
    row = session.get(ChannelState, (incident_id, channel, target))
    return dict(row.state) if row is not None else {}


def save_state(
    session: Session, incident_id: int, channel: str, target: str, state: dict[str, Any], now: datetime
) -> None:
    row = session.get(ChannelState, (incident_id, channel, target))
    if row is None:
        session.add(
            ChannelState(incident_id=incident_id, channel=channel, target=target, state=state, updated_at=now)
        )
    else:
        row.state, row.updated_at = state, now


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    incident_id: int
    channel: str
    target: str
    event: str
    idempotency_key: str
    attempt: int
    payload: dict[str, Any]


@dataclass(slots=True)
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)
    lost_lease: list[int] = field(default_factory=list)
    filtered: list[int] = field(default_factory=list)  # the target stopped subscribing: not delivered

    @property
    def handled(self) -> int:
        return len(self.sent) + len(self.retried) + len(self.dead) + len(self.lost_lease) + len(self.filtered)


class OutboxWorker:
    """Claims due notifications, hands them to their channel, records what happened."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        channels: Mapping[str, Channel],
        clock: Clock,
        config: DeliveryConfig | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.factory = factory
        self.channels = dict(channels)
        self.clock = clock
        self.config = config or DeliveryConfig()
        self.telemetry = telemetry or Telemetry()  # the process's one, from the composition root

    def run_once(self, limit: int | None = None) -> DeliveryReport:
        """Deliver what is due now (up to `limit` rows), claiming in batches until nothing is left."""
        report = DeliveryReport()
        budget = limit if limit is not None else 10 * self.config.batch_size
        while budget > 0:
            claimed = self.claim(min(budget, self.config.batch_size))
            if not claimed:
                break
            budget -= len(claimed)
            for row in claimed:
                self.deliver(row, report)
        return report

    def claim(self, limit: int) -> list[Claimed]:
        now = self.clock()
        claimed: list[Claimed] = []
        with self.factory() as session, session.begin():
            for row in session.scalars(self._due(session, now, limit)):
                if row.attempts >= self.config.max_attempts:  # a lease ran out on the last attempt
                    self._finish(session, row.id, row.attempts, Outcome("dead", now, "lease expired"), now)
                    continue
                taken = session.execute(
                    update(Notification)
                    .where(
                        Notification.id == row.id,
                        Notification.status == row.status,
                        Notification.attempts == row.attempts,
                    )
                    .values(
                        status="sending",
                        attempts=row.attempts + 1,
                        next_attempt_at=now + timedelta(seconds=self.config.lease_seconds),
                    )
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(
                        Claimed(
                            row.id,
                            row.incident_id,
                            row.channel,
                            row.target,
                            row.event,
                            row.idempotency_key,
                            row.attempts + 1,
                            dict(row.payload),
                        )
                    )
        return claimed

    def _due(self, session: Session, now: datetime, limit: int) -> Any:
        earlier = aliased(Notification)
        earlier_unfinished = (
            exists()
            .where(
                earlier.incident_id == Notification.incident_id,
                earlier.channel == Notification.channel,
                earlier.target == Notification.target,
                earlier.id < Notification.id,
                earlier.status.in_(UNFINISHED),
            )
            .correlate(Notification)
        )
        query = (
            select(Notification)
            .where(
                Notification.status.in_(UNFINISHED), Notification.next_attempt_at <= now, ~earlier_unfinished
            )
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=Notification)
        return query

    def deliver(self, row: Claimed, report: DeliveryReport) -> None:
        with self.factory() as session:
            state = load_state(session, row.incident_id, row.channel, row.target)
        outgoing = OutgoingNotification(
            notification_id=row.id,
            incident_id=row.incident_id,
            channel=row.channel,
            target=row.target,
            event=row.event,
            idempotency_key=row.idempotency_key,
            attempt=row.attempt,
            context=row.payload,
            state=state,
        )
        result = self._send(outgoing)
        now = self.clock()
        result_outcome = outcome(result, row.attempt, self.config, now)
        with self.factory() as session, session.begin():
            recorded = self._finish(session, row.id, row.attempt, result_outcome, now)
            if recorded and result.state is not None:
                save_state(session, row.incident_id, row.channel, row.target, result.state, now)
        if not recorded:
            log.warning("notification %s: lease lost before the result was recorded", row.id)
            report.lost_lease.append(row.id)
            self.telemetry.observe_delivery(row.channel, "lost_lease")
            return
        if result_outcome.status == FILTERED:  # no delivery happened: not a delivery metric either
            report.filtered.append(row.id)
            log.info("notification %s (%s): %s", row.id, row.event, result_outcome.error)
            return
        self.telemetry.observe_delivery(row.channel, TELEMETRY_RESULT[result_outcome.status])
        {"sent": report.sent, "pending": report.retried, "dead": report.dead}[result_outcome.status].append(
            row.id
        )
        if result_outcome.status != "sent":
            log.warning(
                "notification %s (%s → %s) attempt %s: %s — %s",
                row.id,
                row.event,
                row.channel,
                row.attempt,
                result_outcome.error,
                result_outcome.status,
            )

    def _send(self, outgoing: OutgoingNotification) -> DeliveryResult:
        channel = self.channels.get(outgoing.channel)
        if channel is None:
            return DeliveryResult(
                ok=False, permanent=True, error=f"no {outgoing.channel!r} channel is configured"
            )
        try:
            return channel.deliver(outgoing)
        except Exception as exc:  # a bug or an unexpected network error in a channel: retry, do not crash
            log.exception("channel %s raised on notification %s", outgoing.channel, outgoing.notification_id)
            return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}")

    @staticmethod
    def _finish(session: Session, notification_id: int, attempt: int, result: Outcome, now: datetime) -> bool:
        """Record the result unless another worker took the row over (its lease expired meanwhile)."""
        done = session.execute(
            update(Notification)
            .where(
                Notification.id == notification_id,
                Notification.status.in_(UNFINISHED),
                Notification.attempts == attempt,
            )
            .values(
                status=result.status,
                next_attempt_at=result.next_attempt_at,
                last_error=result.error,
                sent_at=now if result.status == "sent" else None,
            )
            .execution_options(synchronize_session=False)
        )
        return done.rowcount == 1  # type: ignore[attr-defined]
