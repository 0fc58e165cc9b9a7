"""From incident state to outbox rows: which route targets to tell, with what payload, under which key.

`Notifier.plan` runs the pure notify decision (alerting.notify_policy) for every route target of an
incident and enqueues what it decides, in the caller's transaction. `Notifier.announce` tells the
targets that were already told about an incident of a human action (ack, snooze, comment, …).
Idempotency keys are chosen so that replanning the same state writes nothing new: first → 1,
escalated → the severity reached, flared again → the wave's number, reminder → its ordinal, resolved → 1,
an action → its timeline event.

A webhook subscription's event filter applies to delivery, not to what the target has been told: a
decision it does not subscribe to is still written, under the same key, as a `filtered` row that the
outbox never sends. The decision table reads what a target was last told from these rows, so a
receiver that takes only "flared_again" (or only "escalated" and "resolved") is sequenced exactly like
one that takes everything; without them its first decision would stay "first", skipped, forever.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from alerting.lifecycle import Status
from alerting.muting import campaign_incidents, campaigns_to_summarize, refresh_muting
from alerting.notify_policy import (
    PAGING_EVENTS,
    REASON_EVENTS,
    IncidentView,
    PreviousNotification,
    Reason,
    RouteView,
    decide,
)
from alerting.outbox import enqueue, notification_key
from alerting.severity import rank
from storage.incidents import Incident
from storage.muting import CampaignWindow
from storage.notifications import Notification, NotificationRoute, WebhookSubscription

ContextBuilder = Callable[[Session, Incident, str, datetime], dict[str, Any]]
CAMPAIGN_SUMMARY = "campaign_summary"


def incident_view(incident: Incident) -> IncidentView:
    return IncidentView(
        status=incident.status,
        severity=incident.severity,
        opened_at=incident.created_at,
        acknowledged_at=incident.acknowledged_at,
        snoozed_until=incident.snoozed_until,
        muted=incident.muted_by is not None,
        last_wave_at=incident.last_wave_at,
    )


def route_view(route: NotificationRoute) -> RouteView:
    return RouteView(
        channel=route.channel,
        target=route.target,
        delay_minutes=route.delay_minutes,
        reminder_minutes=route.reminder_minutes,
        min_severity=route.min_severity,
        brand_id=route.brand_id,
        kinds=frozenset(route.kinds or ()),
    )


def webhook_view(subscription: WebhookSubscription) -> RouteView:
    return RouteView(
        channel="webhook",
        target=str(subscription.id),
        brand_id=subscription.brand_id,
        events=frozenset(subscription.events or ()),
    )


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    public_url: str
    # Used only while the notification_routes table is empty (e.g. NOROSHI_SLACK_CHANNEL / _EMAIL_TO).
    default_routes: tuple[RouteView, ...] = ()


class Notifier:
    def __init__(self, build_context: ContextBuilder, config: NotifyConfig) -> None:
        self.build_context = build_context
        self.config = config

    # -- who ---------------------------------------------------------------------------------------

    def routes(self, session: Session, incident: Incident) -> list[RouteView]:
        """Route steps and webhook subscriptions that cover this incident's brand and kind."""
        rows = session.scalars(
            select(NotificationRoute)
            .where(
                NotificationRoute.enabled.is_(True),
                or_(NotificationRoute.brand_id.is_(None), NotificationRoute.brand_id == incident.brand_id),
            )
            .order_by(NotificationRoute.id)
        ).all()
        configured = session.scalar(select(func.count()).select_from(NotificationRoute)) or 0
        steps = [route_view(r) for r in rows] if configured else list(self.config.default_routes)
        hooks = session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.enabled.is_(True))
            .order_by(WebhookSubscription.id)
        ).all()
        candidates = [*steps, *(webhook_view(h) for h in hooks)]
        return [r for r in candidates if r.covers(incident.brand_id, incident.kind)]

    def told(self, session: Session, incident: Incident) -> list[RouteView]:
        """Targets that already got something about this incident (in the order first told); a
        `filtered` row counts: the target was told up to it, whether or not it subscribed to it."""
        pairs = session.execute(
            select(Notification.channel, Notification.target, func.min(Notification.id))
            .where(Notification.incident_id == incident.id, Notification.event != CAMPAIGN_SUMMARY)
            .group_by(Notification.channel, Notification.target)
            .order_by(func.min(Notification.id))
        ).all()
        current = {(r.channel, r.target): r for r in self.routes(session, incident)}
        return [current.get((c, t), RouteView(channel=c, target=t)) for c, t, _ in pairs]

    @staticmethod
    def previous(session: Session, incident: Incident, route: RouteView) -> PreviousNotification | None:
        row = session.scalars(
            select(Notification)
            .where(
                Notification.incident_id == incident.id,
                Notification.channel == route.channel,
                Notification.target == route.target,
                Notification.event.in_(list(PAGING_EVENTS)),
            )
            .order_by(Notification.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        severity = (row.payload or {}).get("notify", {}).get("severity", incident.severity)
        return PreviousNotification(event=row.event, at=row.created_at, severity=severity)

    # -- what --------------------------------------------------------------------------------------

    def plan(
        self, session: Session, incident: Incident, now: datetime, bucket_closed_at: datetime | None = None
    ) -> list[str]:
        """Decide for every target and enqueue; returns the idempotency keys newly enqueued for delivery
        (decisions a target filters out are recorded but not returned: nobody is told of them)."""
        resolved = incident.status == Status.RESOLVED
        if not resolved:
            refresh_muting(session, incident, now)
        view = incident_view(incident)
        # A resolve goes where the trigger went, even if the route changed since.
        targets = self.told(session, incident) if resolved else self.routes(session, incident)
        written: list[str] = []
        context: dict[str, Any] | None = None
        for route in targets:
            reason = decide(self.previous(session, incident, route), view, route, now)
            if reason is Reason.NONE:
                continue
            event = REASON_EVENTS[reason]
            key = notification_key(
                incident.id,
                route.channel,
                route.target,
                event,
                self._sequence(session, incident, route, reason),
            )
            if not route.wants(event):
                self._enqueue(session, incident, route, event, key, None, reason, now)
                continue
            if context is None:
                context = self.build_context(session, incident, self.config.public_url, now)
            if self._enqueue(session, incident, route, event, key, context, reason, now, bucket_closed_at):
                written.append(key)
        return written

    def announce(
        self, session: Session, incident: Incident, event: str, sequence: str | int, now: datetime
    ) -> list[str]:
        """Tell every target already told about this incident of `event` (a human action)."""
        written: list[str] = []
        context: dict[str, Any] | None = None
        for route in self.told(session, incident):
            key = notification_key(incident.id, route.channel, route.target, event, sequence)
            if not route.wants(event):
                # A resolve (or a wake's "triggered") is what the decision table reads next: keep it
                # in the target's history. Other actions are not read by it, so leave no row.
                if event in PAGING_EVENTS:
                    self._enqueue(session, incident, route, event, key, None, None, now)
                continue
            if context is None:
                context = self.build_context(session, incident, self.config.public_url, now)
            if self._enqueue(session, incident, route, event, key, context, None, now, None):
                written.append(key)
        return written

    def summarize_campaigns(self, session: Session, now: datetime) -> list[str]:
        """One summary per ended campaign window and target, attached to the window's worst incident."""
        written: list[str] = []
        for window in campaigns_to_summarize(session, now):
            window.summarized_at = now
            incidents = campaign_incidents(session, window)
            if incidents:
                written += self._summarize(session, window, incidents, now)
        return written

    def _summarize(
        self, session: Session, window: CampaignWindow, incidents: Sequence[Incident], now: datetime
    ) -> list[str]:
        worst = max(incidents, key=lambda i: (rank(i.severity), i.peak_score))
        summary = {
            "id": window.id,
            "name": window.name,
            "starts_at": window.starts_at.isoformat(),
            "ends_at": window.ends_at.isoformat(),
            "created_by": window.created_by,
            "note": window.note,
            "incidents": [
                {
                    "id": i.id,
                    "kind": i.kind,
                    "severity": i.severity,
                    "status": i.status,
                    "started_at": i.started_at.isoformat(),
                    "peak_score": i.peak_score,
                }
                for i in incidents
            ],
        }
        written: list[str] = []
        context: dict[str, Any] | None = None
        for route in self.routes(session, worst):
            first_step = route.delay_minutes <= 0 and rank(worst.severity) >= rank(route.min_severity)
            if not first_step or not route.wants(CAMPAIGN_SUMMARY):
                continue
            if context is None:
                context = {
                    **self.build_context(session, worst, self.config.public_url, now),
                    "campaign": summary,
                }
            key = notification_key(
                worst.id, route.channel, route.target, CAMPAIGN_SUMMARY, f"window-{window.id}"
            )
            if self._enqueue(session, worst, route, CAMPAIGN_SUMMARY, key, context, None, now, None):
                written.append(key)
        return written

    @staticmethod
    def _sequence(session: Session, incident: Incident, route: RouteView, reason: Reason) -> str | int:
        if reason is Reason.ESCALATED:
            return incident.severity
        if reason is Reason.FLARED_AGAIN:
            return incident.waves or 1
        if reason is Reason.REMINDER:
            sent_before = session.scalar(
                select(func.count()).where(
                    Notification.incident_id == incident.id,
                    Notification.channel == route.channel,
                    Notification.target == route.target,
                    Notification.event == "reminder",
                )
            )
            return (sent_before or 0) + 1
        return 1

    @staticmethod
    def _notify(incident: Incident, route: RouteView, event: str, reason: Reason | None) -> dict[str, Any]:
        """What was decided, kept with the row (`previous` reads the severity told from it)."""
        return {
            "event": event,
            "reason": reason.value if reason else None,
            "severity": incident.severity,
            "status": incident.status,
            "channel": route.channel,
            "target": route.target,
        }

    @classmethod
    def _enqueue(
        cls,
        session: Session,
        incident: Incident,
        route: RouteView,
        event: str,
        key: str,
        context: dict[str, Any] | None,
        reason: Reason | None,
        now: datetime,
        bucket_closed_at: datetime | None = None,
    ) -> bool:
        """Write the notification; `context` None = a decision the target does not take (`filtered`):
        no context snapshot, since the row is never rendered, only read back by `previous` and `told`."""
        notify = cls._notify(incident, route, event, reason)
        filtered = context is None
        return enqueue(
            session,
            incident_id=incident.id,
            channel=route.channel,
            target=route.target,
            event=event,
            key=key,
            payload={"notify": {**notify, "filtered": True}} if filtered else {**context, "notify": notify},
            now=now,
            bucket_closed_at=bucket_closed_at,
            filtered=filtered,
        )
