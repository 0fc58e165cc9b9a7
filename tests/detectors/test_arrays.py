"""detect_tick_arrays (counts as arrays) decides exactly what detect_tick (BucketPoint lists) decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from detectors import BucketPoint, DetectorConfig, DetectorState, detect_tick
from detectors.engine import detect_tick_arrays
from detectors.series import BucketArrays, build_frame, frame_from_arrays
from tests.detectors.synthetic import START, index_at, make_series, ramp

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _arrays(points: list[BucketPoint]) -> BucketArrays:
    """Built column by column, independently of BucketArrays.from_points."""
    starts = [(p.start - EPOCH) // timedelta(microseconds=1) for p in points]
    columns = [[p.total for p in points], [p.negative for p in points], [p.authors for p in points]]
    return BucketArrays(np.array(starts, dtype=np.int64), *(np.array(c, dtype=np.int64) for c in columns))


def _both_paths(points: list[BucketPoint], config: DetectorConfig, first: int, state=None) -> int:
    """Tick at every point from `first` on, once per path with its own state; assert equal results.
    Returns the number of signals (so a case can check it compared something)."""
    span = timedelta(days=config.history_days)
    a_state = b_state = state
    signals = 0
    for i in range(first, len(points)):
        at = points[i].start
        history = [p for p in points[: i + 1] if p.start > at - span]
        a = detect_tick(history, config, a_state)
        b = detect_tick_arrays(_arrays(history), config, b_state)
        assert (a.signals, a.expected, a.upper, a.baseline_share, a.active) == (
            b.signals,
            b.expected,
            b.upper,
            b.baseline_share,
            b.active,
        ), at
        assert a.state.to_json() == b.state.to_json(), at
        assert [s.at.utcoffset() for s in b.signals] == [timedelta(0)] * len(b.signals)
        # through JSON, as the tick stores it between buckets
        a_state = DetectorState.from_json(a.state.to_json())
        b_state = DetectorState.from_json(b.state.to_json())
        signals += len(a.signals)
    return signals


DAY15 = 96  # 15-minute buckets keep the per-bucket loops short


def test_flare_with_an_open_event_excluded_from_the_baseline() -> None:
    onset = 6 * DAY15 + 20
    points = make_series(7, 30, seed=3, bucket_minutes=15, multiplier=ramp(onset, 2, 6.0, 12))
    config = DetectorConfig(bucket_minutes=15, history_days=5)
    assert _both_paths(points, config, onset - 4) >= 1


def test_negativity_shift_and_gaps() -> None:
    shift = 6 * DAY15 + 10

    def share(i: int) -> float:
        return 0.6 if shift <= i < shift + 10 else 0.1

    points = make_series(7, 40, seed=5, bucket_minutes=15, share_at=share)
    # gaps (non-contiguous lists take the per-point path) and a bucket off the grid (floored onto it)
    points = [p for i, p in enumerate(points) if not (3 * DAY15 <= i < 3 * DAY15 + 9 or i % 37 == 0)]
    points[200] = BucketPoint(points[200].start + timedelta(seconds=7), 5, 1, 5)
    config = DetectorConfig(bucket_minutes=15, history_days=4, sensitivity="high")
    first = index_at(points, START + (shift - 4) * timedelta(minutes=15))
    assert _both_paths(points, config, first) >= 1


def test_new_brand_from_its_first_bucket() -> None:
    points = make_series(1.5, 12, seed=9, bucket_minutes=15, multiplier=ramp(DAY15 + 20, 1, 8.0, 6))
    config = DetectorConfig(bucket_minutes=15, history_days=28)
    assert _both_paths(points, config, 0) >= 1


def test_sparse_brand_in_a_dst_zone_with_a_known_first_bucket() -> None:
    rng = np.random.default_rng(17)
    start = datetime(2024, 3, 5, 0, 0, tzinfo=UTC)  # New York's clocks move on 2024-03-10
    points = []
    for i in range(7 * 288):
        if rng.random() < 0.12:
            total = int(rng.integers(1, 4))
            points.append(
                BucketPoint(start + i * timedelta(minutes=5), total, int(rng.integers(0, 2)), total)
            )
    burst = start + (7 * 288 - 20) * timedelta(minutes=5)
    points = [p for p in points if p.start < burst]
    points += [BucketPoint(burst + k * timedelta(minutes=5), 60, 40, 55) for k in range(6)]
    config = DetectorConfig(bucket_minutes=5, timezone="America/New_York", history_days=5)
    old = DetectorState(first_seen=start - timedelta(days=40), last_at=points[-40].start)
    assert _both_paths(points, config, len(points) - 40, old) >= 1


def test_frames_match_and_empty_histories_are_refused() -> None:
    points = make_series(2, 10, seed=1)
    for start in (START, START + timedelta(hours=5), START - timedelta(days=1)):
        a, b = (
            build_frame(points, 5, "Asia/Tokyo", start),
            frame_from_arrays(_arrays(points), 5, "Asia/Tokyo", start),
        )
        assert a.start == b.start and a.bucket_minutes == b.bucket_minutes
        for name in ("total", "negative", "authors", "offset", "off_day"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
    empty = BucketArrays(*(np.zeros(0, dtype=np.int64) for _ in range(4)))
    with pytest.raises(ValueError):
        detect_tick_arrays(empty, DetectorConfig(), None)
    with pytest.raises(ValueError):
        detect_tick([BucketPoint(datetime(2024, 1, 1), 3)], DetectorConfig(), None)
