"""The escalation sweep run by several workers at the same moment (PostgreSQL): every escalation step
and every wake-up happens once, whichever worker gets there first."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from alerting.actions import IncidentActions
from alerting.escalation import EscalationSweep, SweepReport
from storage.incidents import IncidentEvent
from storage.notifications import Notification
from tests.alerting.delivery_kit import add_brand, add_incident
from tests.alerting.test_actions import _notifier, _plan, _route

M = timedelta(minutes=1)
WORKERS = 4


def _sweep_together(factory, at) -> list[SweepReport]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(WORKERS)
    sweeps = [EscalationSweep(factory, IncidentActions(_notifier())) for _ in range(WORKERS)]

    def run(sweep: EscalationSweep) -> SweepReport:
        barrier.wait()
        return sweep.run(at)

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(run, sweeps))


def test_concurrent_sweeps_escalate_and_wake_each_incident_once(factory, now, db_url) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent workers: PostgreSQL (SQLite has one writer at a time)")
    with factory() as session, session.begin():
        brand = add_brand(session, now).id
        _route(session, now, "slack", "C0INCIDENTS")
        _route(session, now, "slack", "U0ONCALL", delay=15)
        _route(session, now, "email", "crisis@example.jp", delay=30)
        open_ids = [add_incident(session, brand, now, kind=f"k{i}").id for i in range(6)]
        snoozed_ids = [
            add_incident(session, brand, now, kind=f"s{i}", status="snoozed", snoozed_until=now + 10 * M).id
            for i in range(3)
        ]
    for incident_id in open_ids:
        _plan(factory, incident_id, now)

    reports = _sweep_together(factory, now + 15 * M) + _sweep_together(factory, now + 30 * M)
    keys = [key for report in reports for key in report.enqueued]
    assert len(keys) == len(set(keys))  # no worker enqueued what another one did
    woken = [incident for report in reports for incident in report.woken]
    assert sorted(woken) == sorted(snoozed_ids)  # each woken by exactly one worker
    with factory() as session:
        rows = session.execute(
            select(Notification.incident_id, Notification.event, Notification.target)
        ).all()
        wakes = Counter(
            session.scalars(select(IncidentEvent.incident_id).where(IncidentEvent.event == "wake"))
        )
    assert wakes == Counter(snoozed_ids)
    per_step = Counter(rows)
    assert set(per_step.values()) == {1}
    for incident_id in open_ids:
        assert per_step[(incident_id, "escalated", "U0ONCALL")] == 1
        assert per_step[(incident_id, "escalated", "crisis@example.jp")] == 1
    assert len(keys) == sum(1 for row in rows if row[0] in open_ids and row[1] == "escalated") + sum(
        1 for row in rows if row[0] in snoozed_ids
    )
