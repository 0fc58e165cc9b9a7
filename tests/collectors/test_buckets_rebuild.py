"""`rebuild_buckets(since=…)` after a retention prune: old buckets stay, recent ones match the mentions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from alerting.expectations import store_expectation
from collectors.buckets import first_rebuilt_bucket, rebuild_buckets
from collectors.ingest import MentionIngestor
from detectors import DetectorState
from detectors.types import TickResult
from storage.mentions import Bucket, BucketAuthor
from storage.retention import prune_mentions
from tests.helpers import add_brand, add_source, minutes, post

Row = tuple[int, int, int, int, float | None, float | None, float | None]
RETENTION = timedelta(days=30)


def _buckets(session: Session, brand_id: int) -> dict[datetime, Row]:
    rows = session.scalars(select(Bucket).where(Bucket.brand_id == brand_id).order_by(Bucket.start))
    return {
        b.start: (b.total, b.negative, b.reach, b.authors, b.expected, b.upper, b.baseline_share)
        for b in rows
    }


def _history(factory: sessionmaker[Session], scorer, now: datetime) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """60 days of posts every 7 hours for two brands (5- and 15-minute buckets), a few sharing buckets."""
    with factory() as session, session.begin():
        coffee = add_brand(session, "ノロシ珈琲", ["ノロシ珈琲"], now).id
        tea = add_brand(session, "狼煙ティー", ["狼煙ティー"], now, bucket_minutes=15).id
        source = add_source(session, "push", now).id
    start = now - timedelta(days=60)
    posts = []
    for i in range(60 * 24 // 7):
        at = start + timedelta(hours=7 * i)
        text = "ノロシ珈琲と狼煙ティー、最悪" if i % 3 == 0 else "ノロシ珈琲"
        posts.append(post(f"{i}a", at, text, author=f"u{i % 4}", followers=i))
        posts.append(post(f"{i}b", at + minutes(2), "ノロシ珈琲", author=f"u{(i + 1) % 4}", followers=1))
    with factory() as session, session.begin():
        MentionIngestor(scorer).ingest(session, source, posts, now)
    return coffee, tea, source


def _expectation(expected: float | None, upper: float | None, share: float | None) -> TickResult:
    return TickResult(signals=[], state=DetectorState(), expected=expected, upper=upper, baseline_share=share)


def test_first_rebuilt_bucket_rounds_up_to_a_boundary() -> None:
    at = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    assert first_rebuilt_bucket(at, 5) == at
    assert first_rebuilt_bucket(at + minutes(0.5), 5) == at + minutes(5)
    assert first_rebuilt_bucket(at + minutes(2), 15) == at + minutes(15)


def test_naive_since_is_refused(factory) -> None:
    with factory() as session, pytest.raises(ValueError, match="timezone-aware"):
        rebuild_buckets(session, since=datetime(2026, 1, 1))


def test_a_pruned_history_keeps_old_buckets_after_a_rebuild_since_the_cutoff(factory, scorer, now) -> None:
    coffee, tea, source = _history(factory, scorer, now)
    # A prune run 1 minute past a boundary: the bucket holding the cutoff loses part of its mentions.
    prune_at = now + minutes(1)
    cutoff = prune_at - RETENTION
    with factory() as session, session.begin():
        # the bucket holding the cutoff: one mention before it (pruned), one after it (kept)
        MentionIngestor(scorer).ingest(
            session,
            source,
            [
                post("edge-1", cutoff - minutes(0.5), "ノロシ珈琲", author="e1"),
                post("edge-2", cutoff + minutes(1), "ノロシ珈琲", author="e2"),
            ],
            now,
        )
        store_expectation(session, coffee, cutoff - timedelta(days=3, minutes=1), _expectation(2.0, 6.0, 0.1))
    with factory() as session:
        before = {b: _buckets(session, b) for b in (coffee, tea)}
    edge = first_rebuilt_bucket(cutoff, 5) - minutes(5)
    assert before[coffee][edge][0] == 2

    report = prune_mentions(factory, prune_at, RETENTION)
    assert report.mentions > 150  # the 30 oldest days went
    with factory() as session, session.begin():
        # drift in the recent buckets (what a rebuild repairs) and in old ones (which it must not touch)
        session.execute(update(Bucket).values(total=Bucket.total + 7))
        drifted = {b: _buckets(session, b) for b in (coffee, tea)}
        counted = rebuild_buckets(session, since=cutoff)
    assert counted > 0

    with factory() as session:
        after = {b: _buckets(session, b) for b in (coffee, tea)}
        author_starts = set(session.scalars(select(BucketAuthor.start).distinct()))
    for brand, width in ((coffee, 5), (tea, 15)):
        first = first_rebuilt_bucket(cutoff, width)
        old = {s: r for s, r in after[brand].items() if s < first}
        recent = {s: r for s, r in after[brand].items() if s >= first}
        assert old == {s: r for s, r in drifted[brand].items() if s < first}  # untouched, drift included
        assert len(old) > 20
        assert recent == {s: r for s, r in before[brand].items() if s >= first}  # recounted exactly
        assert recent
    assert after[coffee][edge][0] == 2 + 7  # the straddling bucket is kept, not recounted to 1
    assert after[coffee][edge - timedelta(days=3)][4:6] == (2.0, 6.0)  # an old expectation survives
    assert min(author_starts) > cutoff - minutes(15)  # pruned author sets are not recreated

    # Without `since` the same rebuild empties every bucket whose mentions were pruned.
    with factory() as session, session.begin():
        rebuild_buckets(session)
    with factory() as session:
        full = _buckets(session, coffee)
    assert all(s >= edge for s, r in full.items() if r[0] > 0)


def test_a_rebuild_since_keeps_expectations_in_the_recounted_range(factory, scorer, now) -> None:
    coffee, _, _ = _history(factory, scorer, now)
    since = now - timedelta(days=2)
    quiet = since + timedelta(hours=1, minutes=5)  # no post lands here (posts come every 7 hours)
    with factory() as session, session.begin():
        store_expectation(session, coffee, quiet, _expectation(1.5, 4.0, 0.2))
        store_expectation(session, coffee, quiet + minutes(5), _expectation(None, None, 0.3))
        store_expectation(session, coffee, quiet + minutes(10), _expectation(None, None, None))
        session.execute(update(Bucket).where(Bucket.start >= since).values(total=99))
    with factory() as session, session.begin():
        rebuild_buckets(session, [coffee], since=since)
    with factory() as session:
        rows = _buckets(session, coffee)
    assert rows[quiet] == (0, 0, 0, 0, 1.5, 4.0, 0.2)
    assert rows[quiet + minutes(5)] == (0, 0, 0, 0, None, None, 0.3)  # a baseline share alone is kept
    assert quiet + minutes(10) not in rows  # nothing to keep: neither mentions nor an expectation
    assert all(r[0] < 99 for s, r in rows.items() if s >= since)
