"""The detection tick over stored buckets: one incident per event, watermarks respected, auto-resolve."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from alerting.tick import DetectionTicker, TickSummary, claim_brand
from storage.incidents import DetectorRun, Incident, IncidentEvent
from storage.mentions import Bucket
from storage.timebuckets import bucket_start
from tests.helpers import add_brand, add_source

FIVE = timedelta(minutes=5)


def _fill(session, brand_id: int, start: datetime, counts: list[tuple[int, int]]) -> None:  # type: ignore[no-untyped-def]
    for i, (total, negative) in enumerate(counts):
        if total:
            session.add(
                Bucket(
                    brand_id=brand_id,
                    start=start + i * FIVE,
                    total=total,
                    negative=negative,
                    reach=total * 100,
                    authors=total,
                )
            )


def _day_with_flare(rng: random.Random, flare_at: int, buckets: int = 288) -> list[tuple[int, int]]:
    counts = []
    for i in range(buckets):
        base = rng.randint(6, 12)
        if i >= flare_at:
            total = base * min(8, 2 + (i - flare_at))
            counts.append((total, int(total * 0.65)))
        else:
            counts.append((base, rng.randint(0, 2)))
    return counts


def test_a_flare_opens_one_incident_per_kind_and_ticks_are_idempotent(factory, now) -> None:
    start = bucket_start(now - timedelta(days=1), 5)
    with factory() as session, session.begin():
        brand = add_brand(session, "ノロシ珈琲", ["ノロシ珈琲"], now).id
        _fill(session, brand, start, _day_with_flare(random.Random(7), flare_at=250))
    ticker = DetectionTicker(factory, auto_resolve=timedelta(hours=2))
    summary = ticker.tick(now)
    assert summary.buckets_evaluated == 288
    with factory() as session:
        incidents = session.scalars(select(Incident).order_by(Incident.id)).all()
        kinds = sorted(i.kind for i in incidents)
        assert kinds == ["negativity", "volume"], kinds
        for incident in incidents:
            assert incident.started_at >= start + 250 * FIVE, "fired before the flare began"
            assert incident.started_at <= start + 262 * FIVE, "fired more than an hour after onset"
            assert incident.status == "triggered"
            events = session.scalars(
                select(IncidentEvent).where(IncidentEvent.incident_id == incident.id)
            ).all()
            assert events[0].event == "opened" and events[0].actor == "noroshi"
        run = session.get(DetectorRun, brand)
        assert run.evaluated_through == start + 287 * FIVE
    again = ticker.tick(now + timedelta(seconds=30))
    assert again.buckets_evaluated == 0 and not again.opened
    with factory() as session:
        assert len(session.scalars(select(Incident)).all()) == 2


def test_buckets_past_a_source_watermark_wait(factory, now) -> None:
    start = bucket_start(now - timedelta(hours=6), 5)
    with factory() as session, session.begin():
        brand = add_brand(session, "b", ["b"], now).id
        _fill(session, brand, start, [(10, 1)] * 72)
        add_source(session, "replay", now, kind="replay", watermark=start + 36 * FIVE + timedelta(minutes=2))
    ticker = DetectionTicker(factory, auto_resolve=timedelta(hours=2))
    assert ticker.tick(now).buckets_evaluated == 36  # buckets 0..35 closed before the watermark
    with factory() as session:
        assert session.get(DetectorRun, brand).evaluated_through == start + 35 * FIVE


def _two_bursts(quiet_buckets: int) -> list[tuple[int, int]]:
    rng = random.Random(3)
    counts = [(rng.randint(8, 12), 1) for _ in range(200)]
    counts += [(120, 80)] * 6  # a burst
    counts += [(rng.randint(8, 12), 1) for _ in range(quiet_buckets)]
    counts += [(150, 100)] * 6  # a second burst
    return counts


@pytest.mark.parametrize(("auto_resolve", "quiet_hours"), [(timedelta(hours=2), 5), (None, 16)])
def test_quiet_incidents_resolve_and_a_new_event_opens_a_new_incident(
    factory, now, auto_resolve, quiet_hours
) -> None:
    """With an explicit auto-resolve, or following the detector's own quiet period (the default)."""
    counts = _two_bursts(quiet_hours * 12)
    start = bucket_start(now - len(counts) * FIVE, 5)
    with factory() as session, session.begin():
        brand = add_brand(session, "b", ["b"], now).id
        _fill(session, brand, start, counts)
    DetectionTicker(factory, auto_resolve=auto_resolve).tick(now)
    with factory() as session:
        volume = session.scalars(
            select(Incident).where(Incident.kind == "volume").order_by(Incident.id)
        ).all()
        assert len(volume) == 2
        assert volume[0].status == "resolved" and volume[0].resolved_at is not None
        assert volume[1].status == "triggered"
        resolved_events = session.scalars(
            select(IncidentEvent).where(
                IncidentEvent.incident_id == volume[0].id, IncidentEvent.event == "resolve"
            )
        ).all()
        assert len(resolved_events) == 1 and "auto-resolved" in (resolved_events[0].note or "")


def test_ticking_bucket_by_bucket_equals_one_catch_up_tick(factory, now) -> None:
    """A restart or a slow scheduler must not change what opens: the state carries over exactly."""
    counts = _day_with_flare(random.Random(11), flare_at=72, buckets=120)
    start = bucket_start(now - len(counts) * FIVE, 5)
    with factory() as session, session.begin():
        one = add_brand(session, "one", ["one"], now).id
        many = add_brand(session, "many", ["many"], now).id
        _fill(session, one, start, counts)
        _fill(session, many, start, counts)
    DetectionTicker(factory).tick(now)  # both brands catch up at once
    with factory() as session, session.begin():
        session.execute(Incident.__table__.delete().where(Incident.brand_id == many))
        session.execute(DetectorRun.__table__.delete().where(DetectorRun.brand_id == many))
    stepper = DetectionTicker(factory)
    # tick the second brand bucket by bucket (the first brand is already up to date: nothing changes)
    for i in range(1, len(counts) + 2):
        stepper.tick(start + i * FIVE + timedelta(seconds=10))
    with factory() as session:

        def opened(brand_id: int) -> list[tuple[str, datetime, str]]:
            rows = session.scalars(
                select(Incident).where(Incident.brand_id == brand_id).order_by(Incident.id)
            )
            return [(r.kind, r.started_at, r.severity) for r in rows]

        def timeline(brand_id: int) -> list[str]:  # the events (their times are the ticks' clocks)
            rows = session.scalars(
                select(IncidentEvent.event)
                .join(Incident, Incident.id == IncidentEvent.incident_id)
                .where(Incident.brand_id == brand_id)
                .order_by(IncidentEvent.id)
            )
            return list(rows)

        assert opened(one) and opened(one) == opened(many)
        # the detector's state (open events, their severity and activity) and each incident's timeline
        # are the same too: a stepper that lost its state between ticks opens the same incidents here
        assert session.get(DetectorRun, one).state == session.get(DetectorRun, many).state
        assert timeline(one) == timeline(many)


def _short_flare() -> list[tuple[int, int]]:
    """Four hours of calm (enough for the recent baseline), then half an hour of a loud burst."""
    rng = random.Random(5)
    return [(rng.randint(6, 9), 0) for _ in range(48)] + [(70, 60)] * 6


def test_a_brand_another_worker_is_ticking_is_skipped_not_waited_for(factory, now, db_url) -> None:
    """The brand's row lock is the claim: a second worker's tick skips it (no double evaluation) and
    the brand is evaluated by whoever ticks after the lock is gone (a dead worker's lock dies with it)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("row locks between connections: PostgreSQL (SQLite has one writer at a time)")
    counts = _short_flare()
    start = bucket_start(now - len(counts) * FIVE, 5)
    with factory() as session, session.begin():
        held, free = (
            add_brand(session, "held", ["held"], now).id,
            add_brand(session, "free", ["free"], now).id,
        )
        _fill(session, held, start, counts)
        _fill(session, free, start, counts)
    with factory() as other_worker, other_worker.begin():
        assert claim_brand(other_worker, held)
        summary = DetectionTicker(factory).tick(now)  # from another connection, while the lock is held
        assert summary.skipped == 1 and summary.brands == 1
    with factory() as session:
        assert session.get(DetectorRun, held) is None
        assert {i.brand_id for i in session.scalars(select(Incident))} == {free}
    after = DetectionTicker(factory).tick(now)
    assert after.skipped == 0 and after.buckets_evaluated == len(counts)  # only the skipped brand's
    with factory() as session:
        assert {i.brand_id for i in session.scalars(select(Incident))} == {free, held}


def test_concurrent_tickers_evaluate_each_bucket_once_and_open_each_incident_once(
    factory, now, db_url
) -> None:
    """Four tickers on four threads (four connections) over the same brands at the same moment."""
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent writers: PostgreSQL")
    counts = _short_flare()
    start = bucket_start(now - len(counts) * FIVE, 5)
    with factory() as session, session.begin():
        brands = [add_brand(session, f"b{i}", [f"b{i}"], now).id for i in range(6)]
        for brand in brands:
            _fill(session, brand, start, counts)
    barrier = threading.Barrier(4)

    def tick() -> TickSummary:
        barrier.wait()
        return DetectionTicker(factory).tick(now)

    with ThreadPoolExecutor(4) as pool:
        summaries = list(pool.map(lambda _: tick(), range(4)))
    # Every bucket of every brand evaluated exactly once in total, whichever worker did it.
    assert sum(s.buckets_evaluated for s in summaries) == len(brands) * len(counts)
    opened = [incident for s in summaries for incident in s.opened]
    assert len(opened) == len(set(opened))
    with factory() as session:
        incidents = session.scalars(select(Incident)).all()
        assert sorted(i.id for i in incidents) == sorted(opened)
        kinds = [(i.brand_id, i.kind) for i in incidents]
        assert len(kinds) == len(set(kinds)) and {b for b, _ in kinds} == set(brands)
