"""The periodic notification sweep: wake ended snoozes, run escalation steps and reminders, and send
campaign-window summaries. Safe to run from several workers at once: incident rows are locked with
SKIP LOCKED on PostgreSQL and every notification key is idempotent."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerting.actions import IncidentActions
from alerting.lifecycle import OPEN_STATUSES, Status, TransitionError
from storage.incidents import Incident

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SweepReport:
    woken: list[int] = field(default_factory=list)
    enqueued: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)


class EscalationSweep:
    def __init__(self, factory: sessionmaker[Session], actions: IncidentActions) -> None:
        self.factory = factory
        self.actions = actions
        self.notifier = actions.notifier

    def run(self, now: datetime) -> SweepReport:
        report = SweepReport()
        for incident_id in self._due_to_wake(now):
            try:
                with self.factory() as session, session.begin():
                    report.enqueued += self.actions.wake(session, incident_id, now).notifications
                    report.woken.append(incident_id)
            except TransitionError:  # acknowledged, resolved or re-snoozed meanwhile
                continue
        for incident_id in self._open(now):
            try:
                with self.factory() as session, session.begin():
                    incident = self._lock(session, incident_id)
                    if incident is not None and incident.status in OPEN_STATUSES:
                        report.enqueued += self.notifier.plan(session, incident, now)
            except Exception:  # one incident's failure must not stop the others
                log.exception("escalation sweep failed for incident %s", incident_id)
        with self.factory() as session, session.begin():
            report.summaries = self.notifier.summarize_campaigns(session, now)
        return report

    def _due_to_wake(self, now: datetime) -> list[int]:
        with self.factory() as session:
            return list(
                session.scalars(
                    select(Incident.id)
                    .where(Incident.status == Status.SNOOZED.value, Incident.snoozed_until <= now)
                    .order_by(Incident.id)
                )
            )

    def _open(self, now: datetime) -> list[int]:
        with self.factory() as session:
            return list(
                session.scalars(
                    select(Incident.id).where(Incident.status.in_(list(OPEN_STATUSES))).order_by(Incident.id)
                )
            )

    @staticmethod
    def _lock(session: Session, incident_id: int) -> Incident | None:
        query = select(Incident).where(Incident.id == incident_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # another worker is on it
        return session.scalars(query).first()
