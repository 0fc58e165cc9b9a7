"""replay() equals running detect_tick bucket by bucket, as live."""

from __future__ import annotations

from datetime import timedelta

from detectors import BucketPoint, DetectorConfig, DetectorState, detect_tick, replay
from tests.detectors.synthetic import make_series, ramp


def live(points, config: DetectorConfig):
    """The live path: a tick at every bucket, trailing window, state through JSON, zero for a gap."""
    step = timedelta(minutes=config.bucket_minutes)
    window = config.history_days * 1440 // config.bucket_minutes
    by_start = {p.start: p for p in points}
    history: list[BucketPoint] = []
    state = None
    signals = []
    at = points[0].start
    while at <= points[-1].start:
        history.append(by_start.get(at, BucketPoint(at, 0)))
        history = history[-window:]
        result = detect_tick(history, config, state)
        state = DetectorState.from_json(result.state.to_json())
        signals.extend(result.signals)
        at += step
    return signals


def test_replay_equals_live_with_events_and_gaps():
    day = 96  # 15-minute buckets keep the live loop short
    onset = 6 * day + 40

    def share(i: int) -> float:
        return 0.5 if 4 * day <= i < 4 * day + 6 else 0.12

    points = make_series(8, 40, seed=31, bucket_minutes=15, multiplier=ramp(onset, 2, 6.0, 8), share_at=share)
    points = [p for i, p in enumerate(points) if not (2 * day <= i < 2 * day + 10)]
    config = DetectorConfig(bucket_minutes=15, history_days=5)
    expected = replay(points, config)
    assert expected, "the series should produce signals"
    assert live(points, config) == expected


def test_replay_equals_live_new_brand_5min():
    points = make_series(1.2, 20, seed=32, multiplier=ramp(250, 6, 7.0, 30),
                         share_at=lambda i: 0.6 if i >= 256 else 0.15)  # fmt: skip
    config = DetectorConfig()
    expected = replay(points, config)
    assert {s.kind for s in expected} == {"volume", "negativity"}
    assert live(points, config) == expected
