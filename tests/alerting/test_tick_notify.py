"""The detection tick writes the outbox in the same transaction: live flare-ups page with the full
incident context; flare-ups that began and ended inside replayed (backfilled) buckets are only recorded."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from alerting.notify import Notifier, NotifyConfig
from alerting.notify_policy import RouteView
from alerting.summary import build_incident_context
from alerting.tick import DetectionTicker
from storage.incidents import Incident
from storage.notifications import Notification
from storage.timebuckets import bucket_start
from tests.alerting.delivery_kit import add_brand
from tests.alerting.test_tick import _day_with_flare, _fill, _two_bursts

FIVE = timedelta(minutes=5)
ROUTES = (RouteView("slack", "C0INCIDENTS"), RouteView("email", "crisis@example.jp", min_severity="flame"))


def _sqlite_only(db_url: str) -> None:
    """Planning is database-independent and a day of detection is slow; the outbox's PostgreSQL paths
    are covered by test_outbox, test_actions and test_crash."""
    if not db_url.startswith("sqlite"):
        pytest.skip("database-independent; runs on SQLite")


def _ticker(factory, auto_resolve=None) -> DetectionTicker:  # type: ignore[no-untyped-def]
    notifier = Notifier(build_incident_context, NotifyConfig("https://noroshi.example.jp", ROUTES))
    return DetectionTicker(factory, auto_resolve=auto_resolve, notifier=notifier)


def test_a_live_flare_pages_once_with_the_incident_context(factory, now) -> None:
    start = bucket_start(now - timedelta(days=1), 5)
    with factory() as session, session.begin():
        brand = add_brand(session, now).id
        _fill(session, brand, start, _day_with_flare(random.Random(7), flare_at=250))
    ticker = _ticker(factory, auto_resolve=timedelta(hours=2))
    summary = ticker.tick(now)
    assert summary.opened and len(summary.notifications) >= len(summary.opened)
    assert ticker.tick(now + timedelta(seconds=30)).notifications == []
    with factory() as session:
        incidents = {i.id: i for i in session.scalars(select(Incident))}
        rows = session.scalars(select(Notification).order_by(Notification.id)).all()
        slack = [r for r in rows if r.channel == "slack"]
        volume, negativity = (
            next(i for i in incidents.values() if i.kind == k) for k in ("volume", "negativity")
        )
        assert negativity.severity == "flame"
        assert volume.muted_by == f"inhibited_by:{negativity.id}"  # the flame-up card says it all
        assert [r.incident_id for r in slack] == [negativity.id]  # one card
        assert {r.event for r in slack} == {"triggered"}
        emails = [r for r in rows if r.channel == "email"]
        assert [incidents[r.incident_id].severity for r in emails] == ["flame"] * len(emails)
        for row in rows:
            assert row.bucket_closed_at == start + 288 * FIVE  # the end of the last closed bucket
            assert row.payload["incident"]["id"] == row.incident_id
            assert {"brand", "headline", "runbook", "series", "top_posts"} <= set(row.payload)
            assert row.payload["notify"]["severity"] == incidents[row.incident_id].severity


def test_backfill_records_finished_flare_ups_without_paging(factory, now, db_url) -> None:
    _sqlite_only(db_url)
    counts = _two_bursts(5 * 12)
    start = bucket_start(now - len(counts) * FIVE, 5)
    with factory() as session, session.begin():
        brand = add_brand(session, now).id
        _fill(session, brand, start, counts)
    _ticker(factory, auto_resolve=timedelta(hours=2)).tick(now)  # one catch-up over all of it
    with factory() as session:
        volume = session.scalars(
            select(Incident).where(Incident.kind == "volume").order_by(Incident.id)
        ).all()
        assert [v.status for v in volume] == ["resolved", "triggered"]
        paged = set(session.scalars(select(Notification.incident_id)))
        assert volume[0].id not in paged  # over before anyone could act: recorded only
        assert volume[1].id in paged  # still live at the end of the catch-up


def test_an_auto_resolve_is_announced_where_the_page_went(factory, now, db_url) -> None:
    _sqlite_only(db_url)
    counts = _two_bursts(5 * 12)
    start = bucket_start(now - len(counts) * FIVE, 5)
    first_burst_end = 206
    with factory() as session, session.begin():
        brand = add_brand(session, now).id
        _fill(session, brand, start, counts)
    ticker = _ticker(factory, auto_resolve=timedelta(hours=2))
    ticker.tick(start + first_burst_end * FIVE + timedelta(seconds=10))  # live during the first burst
    ticker.tick(now)
    with factory() as session:
        first_burst = session.scalars(
            select(Incident).where(Incident.started_at < start + first_burst_end * FIVE)
        ).all()
        assert first_burst and all(i.status == "resolved" for i in first_burst)
        paged = 0
        for incident in first_burst:
            events = session.scalars(
                select(Notification.event)
                .where(Notification.incident_id == incident.id, Notification.channel == "slack")
                .order_by(Notification.id)
            ).all()
            assert list(events) in ([], ["triggered", "resolved"])  # [] = inhibited by the flame-up
            paged += bool(events)
        assert paged >= 1
