"""The detector's expectation per bucket: written by the tick, kept by ingest and by a rebuild."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from alerting.expectations import store_expectation
from alerting.tick import DetectionTicker
from collectors.buckets import CountedMention, add_to_buckets, rebuild_buckets
from detectors import DetectorState
from detectors.types import TickResult
from storage.mentions import Bucket, Mention, MentionBrand
from storage.timebuckets import bucket_start
from tests.helpers import add_brand, add_source

FIVE = timedelta(minutes=5)


def _result(expected: float | None, upper: float | None, share: float | None) -> TickResult:
    return TickResult(signals=[], state=DetectorState(), expected=expected, upper=upper, baseline_share=share)


def _bucket(session, brand_id: int, start: datetime) -> Bucket:  # type: ignore[no-untyped-def]
    bucket = session.get(Bucket, (brand_id, start))
    assert bucket is not None
    return bucket


def test_a_bucket_without_posts_gets_a_zero_row_that_ingest_then_counts_into(factory, now) -> None:
    at = bucket_start(now, 5)
    with factory() as session, session.begin():
        brand = add_brand(session, "b", ["b"], now).id
        store_expectation(session, brand, at, _result(4.5, 11.0, 0.08))
    with factory() as session, session.begin():
        row = _bucket(session, brand, at)
        assert (row.total, row.negative, row.reach, row.authors) == (0, 0, 0, 0)
        assert (row.expected, row.upper, row.baseline_share) == (4.5, 11.0, 0.08)
        mentions = [
            CountedMention(brand, at + timedelta(minutes=1), True, 50, "a"),
            CountedMention(brand, at + timedelta(minutes=2), False, 7, "b"),
        ]
        add_to_buckets(session, mentions, {brand: 5})
    with factory() as session:
        row = _bucket(session, brand, at)
        assert (row.total, row.negative, row.reach, row.authors) == (2, 1, 57, 2)
        assert (row.expected, row.upper, row.baseline_share) == (4.5, 11.0, 0.08)


def test_storing_over_counted_bucket_keeps_counts_and_replaces_the_expectation(factory, now) -> None:
    at = bucket_start(now, 5)
    with factory() as session, session.begin():
        brand = add_brand(session, "b", ["b"], now).id
        add_to_buckets(session, [CountedMention(brand, at, True, 3, "a")], {brand: 5})
        store_expectation(session, brand, at, _result(2.0, 6.0, 0.1))
        store_expectation(session, brand, at, _result(None, None, None))  # re-evaluated without history
    with factory() as session:
        row = _bucket(session, brand, at)
        assert (row.total, row.negative, row.reach, row.authors) == (1, 1, 3, 1)
        assert (row.expected, row.upper, row.baseline_share) == (None, None, None)


def test_a_rebuild_recounts_but_keeps_expectations(factory, now) -> None:
    at = bucket_start(now, 5)
    with factory() as session, session.begin():
        brand = add_brand(session, "b", ["b"], now).id
        source = add_source(session, "s", now).id
        mention = Mention(
            source_id=source,
            external_id="1",
            posted_at=at + timedelta(minutes=3),
            collected_at=now,
            author="a",
            author_followers=9,
            text="b",
            negativity=0.9,
            negative=True,
        )
        session.add(mention)
        session.flush()
        session.add(MentionBrand(mention_id=mention.id, brand_id=brand, posted_at=mention.posted_at))
        # counts drifted away from the mentions (what a rebuild is for), plus an empty evaluated bucket
        session.add(Bucket(brand_id=brand, start=at, total=40, negative=30, reach=1, authors=9))
        store_expectation(session, brand, at, _result(3.0, 8.0, 0.05))
        store_expectation(session, brand, at + FIVE, _result(3.5, 9.0, 0.05))
        session.add(Bucket(brand_id=brand, start=at - FIVE, total=5, negative=0, reach=0, authors=1))
    with factory() as session, session.begin():
        assert rebuild_buckets(session, [brand]) == 1
    with factory() as session:
        rows = session.scalars(select(Bucket).where(Bucket.brand_id == brand).order_by(Bucket.start)).all()
        got = [(r.start, r.total, r.negative, r.reach, r.authors, r.expected, r.upper) for r in rows]
    assert got == [
        (at, 1, 1, 9, 1, 3.0, 8.0),
        (at + FIVE, 0, 0, 0, 0, 3.5, 9.0),  # no mention: zeroed, expectation kept
    ]  # the stale bucket with neither mentions nor expectation is gone


def test_the_tick_stores_an_expectation_for_every_evaluated_bucket(factory, now) -> None:
    start = bucket_start(now - timedelta(days=2), 5)
    rng = random.Random(5)
    with factory() as session, session.begin():
        brand = add_brand(session, "b", ["b"], now).id
        for i in range(2 * 288):
            if i % 7 != 3:  # every seventh bucket has no posts: the tick must still leave a row for it
                total = rng.randint(5, 15)
                session.add(
                    Bucket(
                        brand_id=brand,
                        start=start + i * FIVE,
                        total=total,
                        negative=1,
                        reach=0,
                        authors=total,
                    )
                )
    summary = DetectionTicker(factory).tick(now)
    with factory() as session:
        rows = session.scalars(select(Bucket).where(Bucket.brand_id == brand).order_by(Bucket.start)).all()
    assert len(rows) == summary.buckets_evaluated == 2 * 288
    assert [r.start for r in rows] == [start + i * FIVE for i in range(2 * 288)]
    assert all(r.total == 0 for i, r in enumerate(rows) if i % 7 == 3)
    last_day = rows[-288:]
    assert all(r.expected is not None and r.upper is not None for r in last_day)
    assert all(r.upper > r.expected > 0 for r in last_day)
    assert all(r.baseline_share is not None and 0 <= r.baseline_share <= 1 for r in last_day)
