"""The detection tick's history cache: the detector sees exactly what a database read gives (unless a
bucket older than the re-read margin changed), such a change arrives with the brand's full refresh,
memory stays bounded and a rolled-back batch records nothing."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from alerting.history_cache import FULL_REFRESH, RE_READ_MARGIN, HistoryCache
from alerting.tick import DetectionTicker, TickSummary
from alerting.tick_points import epoch_of
from storage.brands import Brand
from storage.bucket_series import load_bucket_series
from storage.engine import make_engine, make_session_factory
from storage.incidents import DetectorRun, Incident, IncidentEvent
from storage.mentions import Bucket
from storage.timebuckets import bucket_start
from tests.alerting.test_tick import _fill
from tests.conftest import empty_pg, fresh_pg_database, migrated_sqlite
from tests.helpers import add_brand

FIVE = timedelta(minutes=5)
Factory = sessionmaker[Session]


@pytest.fixture(scope="module")
def pg_twin_url() -> Iterator[str]:
    """The module's second PostgreSQL database, emptied for each test that uses it."""
    with fresh_pg_database("noroshi_twin") as url:
        yield url


@pytest.fixture
def twin(db_url: str, request: pytest.FixtureRequest, tmp_path) -> Iterator[Factory]:  # type: ignore[no-untyped-def]
    """A second, empty database on the same store as `factory`: the run without the cache."""
    if db_url.startswith("postgresql"):
        url = request.getfixturevalue("pg_twin_url")
        engine = make_engine(url)
        empty_pg(engine)
    else:
        template = request.getfixturevalue("sqlite_template")
        engine = make_engine(migrated_sqlite(template, tmp_path / "twin.db"))
    yield make_session_factory(engine)
    engine.dispose()


def _add(session: Session, brand_id: int, start: datetime, total: int, negative: int = 0) -> None:
    """Mentions arriving for a bucket: added to its counts, as ingest does (created if absent)."""
    bucket = session.get(Bucket, (brand_id, start))
    if bucket is None:
        session.add(Bucket(brand_id=brand_id, start=start, total=0, negative=0, reach=0, authors=0))
        session.flush()
        bucket = session.get(Bucket, (brand_id, start))
    assert bucket is not None
    bucket.total += total
    bucket.negative += negative
    bucket.reach += total * 100
    bucket.authors += total


def _calm(rng: random.Random, n: int, every: int = 1) -> list[tuple[int, int]]:
    return [(rng.randint(6, 12), rng.randint(0, 2)) if i % every == 0 else (0, 0) for i in range(n)]


def _seed(factory: Factory, now: datetime, buckets: int = 288) -> tuple[list[int], datetime]:
    """Three brands with a day of history (unless told fewer buckets) up to the bucket before `now`'s:
    steady, sparse (gaps, which the tick fills with zero rows, most far older than the margin), and
    one to flare later."""
    start = bucket_start(now, 5) - buckets * FIVE
    with factory() as session, session.begin():
        ids = [add_brand(session, name, [name], now).id for name in ("steady", "sparse", "flare")]
        _fill(session, ids[0], start, _calm(random.Random(1), buckets))
        _fill(session, ids[1], start, _calm(random.Random(2), buckets, every=7))
        _fill(session, ids[2], start, _calm(random.Random(3), buckets))
    return ids, start + buckets * FIVE


def _live_step(factory: Factory, ids: list[int], k: int, at: datetime) -> None:
    """Between ticks: the bucket `at` for every brand, a flare from the third step, and late
    mentions within the margin (a bucket two hours back, one filling an old gap three hours back)."""
    steady, sparse, flare = ids
    with factory() as session, session.begin():
        _add(session, steady, at, 9, 1)
        if k % 2:
            _add(session, sparse, at, 7)
        _add(session, flare, at, *((150, 110) if k >= 3 else (10, 1)))
        if k == 2:
            _add(session, steady, at - timedelta(hours=2), 40, 5)
        if k == 4:
            _add(session, sparse, at - timedelta(hours=3) - FIVE, 12, 3)


def _rows(factory: Factory) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the tick writes: detector runs, incidents and their timelines, bucket counts and
    expectations."""
    out = {}
    with factory() as session:
        for model in (DetectorRun, Incident, IncidentEvent, Bucket):
            table = model.__table__
            query = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(row) for row in session.execute(query)]
    return out


def _summary(summary: TickSummary) -> tuple[int, int, int, int, int]:
    return (
        summary.brands,
        summary.buckets_evaluated,
        len(summary.opened),
        len(summary.escalated),
        len(summary.resolved),
    )


def _assert_cache_equals_table(factory: Factory, cache: HistoryCache, brand_ids: list[int]) -> None:
    """Each kept entry holds exactly the table's buckets of its range."""
    with factory() as session:
        for brand_id in brand_ids:
            entry = cache.entry(brand_id)
            if entry is None:
                continue
            read = load_bucket_series(session, [brand_id], entry.since, entry.until).get(brand_id)
            assert read is not None
            for name in ("epoch", "total", "negative", "authors", "reach"):
                np.testing.assert_array_equal(getattr(entry.series, name), getattr(read, name), name)


@pytest.mark.parametrize("max_brands", [100, 2])
def test_ticks_with_the_cache_write_what_ticks_without_it_write(
    factory: Factory, twin: Factory, now: datetime, max_brands: int
) -> None:
    """Same data in two databases, one ticked through the cache and one reading everything each
    tick: after every tick the same runs, incidents, timelines and stored buckets/expectations.
    max_brands=2: one of the three brands is never kept and is read in full every tick."""
    # Ten hours of history, not a day: the sparse brand's gaps still reach 4 h past RE_READ_MARGIN,
    # and the catch-up over them (97 % of the time) takes 120 buckets per brand instead of 288.
    ids, first_new = _seed(factory, now, buckets=120)
    assert _seed(twin, now, buckets=120)[0] == ids
    cache = HistoryCache(max_brands=max_brands)
    cached, plain = DetectionTicker(factory, history_cache=cache), DetectionTicker(twin, history_cache=None)
    for k in range(8):  # a catch-up over the history, then live ticks with one new bucket each
        at = first_new + (k - 1) * FIVE
        if k:
            _live_step(factory, ids, k, at)
            _live_step(twin, ids, k, at)
        tick_at = at + FIVE + timedelta(seconds=20)
        assert _summary(cached.tick(tick_at)) == _summary(plain.tick(tick_at)), k
        assert _rows(factory) == _rows(twin), k
        _assert_cache_equals_table(factory, cache, ids)
        assert len(cache) <= max_brands
    assert cache.tail_reads >= 10  # the cache was used, not bypassed
    with factory() as session:
        assert {i.brand_id for i in session.scalars(select(Incident))} == {ids[2]}  # the flare paged


def test_an_older_change_is_read_at_the_brand_s_full_refresh(factory: Factory, now: datetime) -> None:
    """A late change 12 hours back (past the margin) is not seen by the warm reads; the brand's
    staggered full refresh, within FULL_REFRESH of its last full read, brings it in."""
    start = bucket_start(now, 5) - 288 * FIVE
    with factory() as session, session.begin():
        brand = add_brand(session, "late", ["late"], now).id
        _fill(session, brand, start, _calm(random.Random(4), 288))
    cache = HistoryCache()
    ticker = DetectionTicker(factory, history_cache=cache)
    ticker.tick(now)
    old = bucket_start(now - timedelta(hours=12), 5)
    assert now - old > RE_READ_MARGIN
    with factory() as session, session.begin():
        before = session.get(Bucket, (brand, old))
        assert before is not None
        stored = before.total
        _add(session, brand, old, 50)

    def cached_total() -> int:
        entry = cache.entry(brand)
        assert entry is not None
        return int(entry.series.total[np.searchsorted(entry.series.epoch, epoch_of(old))])

    refresh_at = cache.next_refresh(brand, now)
    assert now < refresh_at <= now + FULL_REFRESH
    at = now
    while at < refresh_at:  # a tick every five minutes, each with a new bucket to evaluate
        at += FIVE
        assert ticker.tick(at).buckets_evaluated == 1
        if at < refresh_at:
            assert cached_total() == stored, at  # the warm reads do not go back that far
    assert cached_total() == stored + 50  # the first tick at or after the brand's refresh point
    assert cache.entry(brand).loaded_at == at  # type: ignore[union-attr]
    _assert_cache_equals_table(factory, cache, [brand])


def test_full_refreshes_are_staggered_over_the_period(now: datetime) -> None:
    cache = HistoryCache()
    times = [cache.next_refresh(brand_id, now) for brand_id in range(1, 25)]
    assert all(now < t <= now + FULL_REFRESH for t in times)
    assert len(set(times)) > 20


def test_a_full_cache_keeps_its_brands_until_they_are_due(factory: Factory, now: datetime) -> None:
    """At most max_brands entries, and the brands that do not fit do not evict those in use (a
    cyclic scan would empty an LRU); an entry this worker no longer ticks (its brand deleted here,
    claimed by another worker in production) gives way once it is due for a refresh."""
    start = bucket_start(now, 5) - 48 * FIVE
    with factory() as session, session.begin():
        ids = [add_brand(session, f"b{i}", [f"b{i}"], now).id for i in range(4)]
        for brand_id in ids:
            _fill(session, brand_id, start, _calm(random.Random(brand_id), 48))
    cache = HistoryCache(max_brands=2)
    ticker = DetectionTicker(factory, history_cache=cache)
    ticker.tick(now)
    assert {b for b in ids if b in cache} == set(ids[:2])
    assert cache.split(ids[::-1]) == ([ids[1], ids[0]], [ids[3], ids[2]])  # cached, others; in order
    assert all(cache.next_refresh(b, now) > now + FIVE for b in ids[:2])
    assert ticker.tick(now + FIVE).buckets_evaluated == 4
    assert {b for b in ids if b in cache} == set(ids[:2])  # not thrashed by the ones that do not fit
    with factory() as session, session.begin():
        session.execute(delete(Brand).where(Brand.id == ids[0]))
    due = cache.next_refresh(ids[0], cache.entry(ids[0]).loaded_at)  # type: ignore[union-attr]
    ticker.tick(due)
    assert {b for b in ids if b in cache} == {ids[1], ids[2]}


def test_a_rolled_back_batch_records_nothing(
    factory: Factory, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four hours of history: what is kept or not does not depend on how long (a day took 3.4 s).
    ids, first_new = _seed(factory, now, buckets=48)
    cache = HistoryCache()
    ticker = DetectionTicker(factory, history_cache=cache)
    ticker.tick(now)
    entries, reads = {b: cache.entry(b) for b in ids}, (cache.full_reads, cache.tail_reads)
    _live_step(factory, ids, 1, first_new)

    def fail(session: Session, rows: list[dict[str, Any]]) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("alerting.tick.store_expectations", fail)
    assert ticker.tick(now + FIVE).brands == 0  # the batch and its brand-by-brand retries failed
    assert {b: cache.entry(b) for b in ids} == entries  # the same entries, their `until` unchanged
    assert (cache.full_reads, cache.tail_reads) == reads
    monkeypatch.undo()
    assert ticker.tick(now + FIVE).buckets_evaluated == 3
    assert all(cache.entry(b).until > entries[b].until for b in ids)  # type: ignore[union-attr]
    _assert_cache_equals_table(factory, cache, ids)


def test_the_ticker_caches_by_default_and_not_when_told(factory: Factory) -> None:
    make: Callable[..., DetectionTicker] = DetectionTicker
    assert isinstance(make(factory).history_cache, HistoryCache)
    assert make(factory, history_cache=None).history_cache is None


def test_a_reset_or_replayed_detector_run_reads_the_history_in_full(factory: Factory, now: datetime) -> None:
    """The entry stands in for the history only while the brand's run continues from it: a run
    deleted (a reset, or a brand deleted and its id reused) or moved back (a replay) reads in full."""
    start = bucket_start(now, 5) - 48 * FIVE
    with factory() as session, session.begin():
        brand = add_brand(session, "reset", ["reset"], now).id
        _fill(session, brand, start, _calm(random.Random(9), 48))
    cache = HistoryCache()
    ticker = DetectionTicker(factory, history_cache=cache)
    ticker.tick(now)
    assert ticker.tick(now + FIVE).buckets_evaluated == 1
    assert (cache.full_reads, cache.tail_reads) == (1, 1)
    with factory() as session, session.begin():
        session.execute(delete(DetectorRun).where(DetectorRun.brand_id == brand))
    assert ticker.tick(now + 2 * FIVE).buckets_evaluated == 50  # from the first bucket again
    assert (cache.full_reads, cache.tail_reads) == (2, 1)
    with factory() as session, session.begin():
        run = session.get(DetectorRun, brand)
        assert run is not None and run.evaluated_through is not None
        run.evaluated_through -= 2 * FIVE
    assert ticker.tick(now + 3 * FIVE).buckets_evaluated == 3
    assert (cache.full_reads, cache.tail_reads) == (3, 1)
    _assert_cache_equals_table(factory, cache, [brand])
