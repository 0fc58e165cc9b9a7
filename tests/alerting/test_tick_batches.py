"""Brands ticked in batches: one transaction per batch, yet one brand's failure stops no other brand,
and a batch claim takes only the brands no other worker holds."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from alerting.tick import DetectionTicker, claim_brands
from storage.incidents import DetectorRun, Incident
from storage.timebuckets import bucket_start
from tests.alerting.test_tick import _day_with_flare, _fill
from tests.helpers import add_brand

FIVE = timedelta(minutes=5)


def test_a_failing_brand_in_a_batch_does_not_stop_or_undo_the_others(factory, now) -> None:
    counts = _day_with_flare(random.Random(7), flare_at=250)
    start = bucket_start(now - timedelta(days=1), 5)
    with factory() as session, session.begin():
        good = [add_brand(session, f"good{i}", [f"good{i}"], now).id for i in range(2)]
        broken = add_brand(session, "broken", ["broken"], now, timezone="Nowhere/Atlantis").id
        for brand in [*good, broken]:
            _fill(session, brand, start, counts)
    summary = DetectionTicker(factory).tick(now)  # all three brands fit in one batch
    assert summary.brands == 2 and summary.buckets_evaluated == 2 * len(counts)
    with factory() as session:
        assert {run.brand_id for run in session.scalars(select(DetectorRun))} == set(good)
        incidents = session.scalars(select(Incident)).all()
        assert {i.brand_id for i in incidents} == set(good)
        assert sorted(summary.opened) == sorted(i.id for i in incidents)  # only what was committed


def test_brands_are_claimed_in_batches_but_split_brand_by_brand(factory, now, db_url) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("row locks between connections: PostgreSQL")
    counts = [(rng_total, 0) for rng_total in random.Random(3).choices(range(5, 9), k=48)]
    start = bucket_start(now - len(counts) * FIVE, 5)
    with factory() as session, session.begin():
        brands = [add_brand(session, f"b{i}", [f"b{i}"], now).id for i in range(7)]
        for brand in brands:
            _fill(session, brand, start, counts)
    held = [brands[1], brands[4]]  # inside two different batches
    with factory() as other_worker, other_worker.begin():
        assert [b.id for b in claim_brands(other_worker, held)] == held
        summary = DetectionTicker(factory, batch_brands=3).tick(now)  # batches of 3 for 7 brands
    assert summary.skipped == 2 and summary.brands == 5
    with factory() as session:
        ticked = {run.brand_id for run in session.scalars(select(DetectorRun))}
    assert ticked == set(brands) - set(held)
