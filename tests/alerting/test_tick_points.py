"""The tick's bulk bucket read and its detector input: same counts, same detector results."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
import pytest

from alerting.tick_points import EPOCH, detector_arrays, epoch_of, window
from detectors import BucketPoint, DetectorConfig, DetectorState, detect_tick
from detectors.engine import detect_tick_arrays
from storage.bucket_series import BucketSeries, load_bucket_series
from storage.mentions import Bucket
from tests.helpers import add_brand

FIVE = timedelta(minutes=5)


def test_one_read_returns_each_brands_buckets_in_its_range_with_exact_starts(factory, now) -> None:
    start = now - 10 * FIVE
    with factory() as session, session.begin():
        quiet, busy, empty = (add_brand(session, name, [name], now).id for name in ("quiet", "busy", "empty"))
        for i in reversed(range(10)):  # stored out of order
            session.add(
                Bucket(brand_id=busy, start=start + i * FIVE, total=i, negative=i // 2, reach=7, authors=1)
            )
        session.add(Bucket(brand_id=quiet, start=start + 3 * FIVE, total=0, negative=0, reach=0, authors=0))
        session.add(
            Bucket(brand_id=quiet, start=start - FIVE, total=5, negative=5, reach=5, authors=5)
        )  # before
    with factory() as session:
        series = load_bucket_series(session, [empty, busy, quiet], start, start + 8 * FIVE)
    assert empty not in series
    assert series[quiet].epoch.tolist() == [epoch_of(start + 3 * FIVE)]
    assert series[busy].epoch.tolist() == [epoch_of(start + i * FIVE) for i in range(9)]
    assert series[busy].total.tolist() == list(range(9))
    assert series[busy].negative.tolist() == [i // 2 for i in range(9)]
    assert set(series[busy].reach.tolist()) == {7} and set(series[busy].authors.tolist()) == {1}
    arrays = detector_arrays(series[busy])
    assert [arrays.time(i) for i in range(len(arrays))] == [start + i * FIVE for i in range(9)]
    assert all(arrays.time(i).utcoffset() == timedelta(0) for i in range(len(arrays)))


def _sparse_day(rng: random.Random, buckets: int) -> list[tuple[int, int]]:
    """A small brand: most buckets empty, then a loud burst near the end."""
    counts = [
        (rng.randint(1, 3), rng.randint(0, 1)) if rng.random() < 0.15 else (0, 0) for _ in range(buckets)
    ]
    return counts[:-20] + [(45, 35)] * 8 + counts[-12:]


def _stored(points: list[BucketPoint]) -> BucketSeries:
    """What the bulk read returns for these buckets (only stored ones, epoch seconds)."""
    rows = [[epoch_of(p.start), p.total, p.negative, p.authors, p.reach] for p in points]
    return BucketSeries(*np.array(rows, dtype=np.int64).T.copy())


@pytest.mark.parametrize("known_first", [True, False])
def test_array_windows_decide_what_point_windows_decide(now: datetime, known_first: bool) -> None:
    """Same signals, expectations and state at every bucket as detect_tick on the BucketPoint window,
    for a sparse brand (only non-empty buckets stored), new or with a known first bucket."""
    rng = random.Random(11)
    counts = _sparse_day(rng, 3 * 288)
    first = now - len(counts) * FIVE
    full = [BucketPoint(first + i * FIVE, t, n, t, t * 10) for i, (t, n) in enumerate(counts)]
    stored = [p for p in full if p.total or p.negative]
    arrays = detector_arrays(_stored(stored))
    config, history = DetectorConfig(history_days=2), timedelta(days=2)
    if known_first:
        state = DetectorState(first_seen=first - timedelta(days=30), last_at=first + 287 * FIVE)
        begin = 288
    else:
        state, begin = DetectorState(), next(i for i, p in enumerate(full) if p.total or p.negative)
    state_points = state_arrays = state
    signals = 0
    for i in range(begin, len(full)):
        at = full[i].start
        whole = [p for p in full if at - history < p.start <= at and (p.total or p.negative or p.start == at)]
        a = detect_tick(whole, config, state_points)
        b = detect_tick_arrays(window(arrays, at, history), config, state_arrays)
        assert (a.signals, a.expected, a.upper, a.baseline_share, a.active) == (
            b.signals,
            b.expected,
            b.upper,
            b.baseline_share,
            b.active,
        ), at
        assert a.state.to_json() == b.state.to_json()
        state_points, state_arrays = a.state, b.state
        signals += len(a.signals)
    assert signals >= 1, "the burst should have been detected, or this test compares nothing"


def test_window_is_the_trailing_span_ending_with_the_evaluated_bucket() -> None:
    seconds = [0, 300, 600, 1200]
    arrays = detector_arrays(
        _stored([BucketPoint(EPOCH + timedelta(seconds=s), s + 1, 1, 1) for s in seconds])
    )
    inside = window(arrays, EPOCH + timedelta(seconds=600), timedelta(seconds=600))
    assert (inside.start_us // 1_000_000).tolist() == [300, 600]  # the span's first instant is out
    assert inside.total.tolist() == [301, 601]
    gap = window(arrays, EPOCH + timedelta(seconds=900), timedelta(seconds=600))
    assert (gap.start_us // 1_000_000).tolist() == [600, 900]  # nobody posted at 900: a zero
    assert (gap.total.tolist(), gap.negative.tolist(), gap.authors.tolist()) == (
        [601, 0],
        [1, 0],
        [1, 0],
    )
    assert len(window(arrays, EPOCH + timedelta(seconds=5000), timedelta(seconds=600))) == 1
