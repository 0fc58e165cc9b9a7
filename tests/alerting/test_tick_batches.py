"""Brands ticked in batches: one transaction per batch, yet one brand's failure stops no other brand,
a batch claim takes only the brands no other worker holds, and a worker takes the brands it has not
cached (another worker's) a few at a time."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from alerting.history_cache import HistoryCache
from alerting.tick import DetectionTicker, claim_brands
from storage.incidents import DetectorRun, Incident
from storage.timebuckets import bucket_start
from tests.alerting.test_tick import _fill, _short_flare
from tests.alerting.test_tick_cache import _add
from tests.helpers import add_brand

FIVE = timedelta(minutes=5)


def _brands_with_history(factory, now, n: int, seed: int):  # type: ignore[no-untyped-def]
    """`n` brands with the same 4 hours of quiet history (5–8 posts a bucket) up to `now`."""
    counts = [(total, 0) for total in random.Random(seed).choices(range(5, 9), k=48)]
    start = bucket_start(now - len(counts) * FIVE, 5)
    with factory() as session, session.begin():
        brands = [add_brand(session, f"b{i}", [f"b{i}"], now).id for i in range(n)]
        for brand in brands:
            _fill(session, brand, start, counts)
    return brands, counts, start


def test_a_failing_brand_in_a_batch_does_not_stop_or_undo_the_others(factory, now) -> None:
    # Four calm hours and a burst: enough to open incidents (a day took 5 s per store, the good
    # brands being evaluated twice: in the batch that fails, then each on its own).
    counts = _short_flare()
    start = bucket_start(now - len(counts) * FIVE, 5)
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
    brands, _, _ = _brands_with_history(factory, now, 7, seed=3)
    held = [brands[1], brands[4]]  # inside two different batches
    with factory() as other_worker, other_worker.begin():
        assert [b.id for b in claim_brands(other_worker, held)] == held
        summary = DetectionTicker(factory, batch_brands=3).tick(now)  # batches of 3 for 7 brands
    assert summary.skipped == 2 and summary.brands == 5
    with factory() as session:
        ticked = {run.brand_id for run in session.scalars(select(DetectorRun))}
    assert ticked == set(brands) - set(held)


def _transactions(factory, brand_ids: list[int]) -> list[list[int]]:  # type: ignore[no-untyped-def]
    """The brands whose detector runs each transaction wrote last, oldest first (PostgreSQL's xmin:
    the id of the transaction that wrote the row version)."""
    query = text("SELECT brand_id, xmin::text::bigint FROM detector_runs ORDER BY 2, brand_id")
    with factory() as session:
        rows = [(brand_id, xid) for brand_id, xid in session.execute(query) if brand_id in brand_ids]
    return [[b for b, x in rows if x == xid] for xid in dict.fromkeys(x for _, x in rows)]


def test_a_worker_takes_the_brands_another_worker_has_cached_a_few_at_a_time(factory, now, db_url) -> None:
    """Two workers, each with its own cache, split the brands. When one has ticked its own brands
    and walks on into the other's, which the other has not reached yet, it claims them in batches of
    `uncached_batch_brands` (each is a lost cache hit for the other), its own in `batch_brands`; every
    brand is still evaluated once."""
    if not db_url.startswith("postgresql"):
        pytest.skip("two workers on one database, and xmin: PostgreSQL")
    brands, counts, start = _brands_with_history(factory, now, 10, seed=4)
    ours, theirs = brands[::2], brands[1::2]  # interleaved: the split is by cache, not by id
    our_cache, their_cache = HistoryCache(), HistoryCache()
    us = DetectionTicker(factory, batch_brands=4, uncached_batch_brands=2, history_cache=our_cache)
    them = DetectionTicker(factory, batch_brands=4, uncached_batch_brands=2, history_cache=their_cache)
    with factory() as other_worker, other_worker.begin():  # the first tick: they hold their brands
        assert [b.id for b in claim_brands(other_worker, theirs)] == theirs
        assert us.tick(now).brands == len(ours)
    assert them.tick(now).buckets_evaluated == len(theirs) * len(counts)
    assert {b for b in brands if b in our_cache} == set(ours)
    assert {b for b in brands if b in their_cache} == set(theirs)

    new = start + len(counts) * FIVE  # the next bucket; we tick first, they have not reached theirs
    with factory() as session, session.begin():
        for brand in brands:
            _add(session, brand, new, 7)
    reads = our_cache.full_reads, our_cache.tail_reads
    due = sum(our_cache.next_refresh(b, now) <= now + FIVE for b in ours)  # their hourly full read
    assert us.tick(now + FIVE).buckets_evaluated == len(brands)
    assert _transactions(factory, brands) == [ours[:4], ours[4:], theirs[:2], theirs[2:4], theirs[4:]]
    full, tail = our_cache.full_reads - reads[0], our_cache.tail_reads - reads[1]
    assert (full, tail) == (len(theirs) + due, len(ours) - due)  # theirs read in full: lost hits
    assert them.tick(now + FIVE).buckets_evaluated == 0  # nothing left: each brand evaluated once
    with factory() as session:
        assert {run.evaluated_through for run in session.scalars(select(DetectorRun))} == {new}
