"""The public contract: names, fields, state round-trip, idempotent ticks."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from detectors import (
    BucketPoint,
    ConfigError,
    DetectorConfig,
    DetectorState,
    Signal,
    TickResult,
    detect_tick,
    replay,
)
from tests.detectors.synthetic import make_series, ramp


def test_contract_fields():
    assert [f.name for f in dataclasses.fields(BucketPoint)] == [
        "start",
        "total",
        "negative",
        "authors",
        "reach",
    ]
    cfg = DetectorConfig()
    assert (cfg.bucket_minutes, cfg.timezone, cfg.sensitivity, cfg.history_days) == (
        5,
        "Asia/Tokyo",
        "normal",
        28,
    )
    assert [f.name for f in dataclasses.fields(Signal)] == [
        "at", "kind", "severity", "score", "observed", "expected", "upper", "test",
        "negative_share", "baseline_share", "escalation", "reflare",
    ]  # fmt: skip
    assert [f.name for f in dataclasses.fields(TickResult)] == [
        "signals", "state", "expected", "upper", "baseline_share", "active",
    ]  # fmt: skip


def test_fresh_state_and_json_round_trip():
    assert DetectorState.from_json(None) == DetectorState()
    points = make_series(2, 20, seed=1, multiplier=ramp(540, 1, 8.0, 30))
    cfg = DetectorConfig()
    state = None
    seen = []
    for i in range(len(points)):
        result = detect_tick(points[max(0, i - 8063) : i + 1], cfg, state)
        payload = json.loads(json.dumps(result.state.to_json()))
        state = DetectorState.from_json(payload)
        assert state == result.state
        seen.extend(result.signals)
    assert any(s.kind == "volume" and not s.escalation for s in seen)


def test_tick_result_for_charts():
    points = make_series(2, 20, seed=2)
    result = detect_tick(points, DetectorConfig(), None)
    assert result.signals == []
    assert result.expected is not None and result.upper is not None
    assert 5 < result.expected < 60 and result.upper > result.expected
    assert result.baseline_share is not None and 0.1 < result.baseline_share < 0.2
    assert result.active == {"volume": False, "negativity": False}


def test_too_little_history_has_no_opinion():
    points = make_series(1 / 24, 20, seed=3)  # one hour
    result = detect_tick(points, DetectorConfig(), None)
    assert result.expected is None and result.upper is None and result.signals == []


def test_repeated_tick_is_idempotent():
    points = make_series(2, 20, seed=4, multiplier=ramp(540, 1, 8.0, 20))
    cfg = DetectorConfig()
    state = None
    signals = []
    for i in range(500, len(points)):
        window = points[: i + 1]
        first = detect_tick(window, cfg, state)
        again = detect_tick(window, cfg, first.state)
        assert again.signals == [] and again.state == first.state
        state = first.state
        signals.extend(first.signals)
    assert state.last_at == points[-1].start
    (opened,) = [s for s in signals if not s.escalation]
    assert points[540].start <= opened.at <= points[543].start


def test_naive_datetimes_rejected():
    points = make_series(1, 10, seed=5)
    naive = [dataclasses.replace(p, start=p.start.replace(tzinfo=None)) for p in points]
    with pytest.raises(ValueError, match="timezone-aware"):
        detect_tick(naive, DetectorConfig(), None)


@pytest.mark.parametrize(
    ("setting", "field", "message"),
    [
        ({"sensitivity": "paranoid"}, "sensitivity", "unknown sensitivity 'paranoid'; use one of low, norm"),
        ({"timezone": "Mars/Base"}, "timezone", "unknown timezone 'Mars/Base'"),
        ({"timezone": "../etc/passwd"}, "timezone", "unknown timezone"),
        ({"bucket_minutes": 7}, "bucket_minutes", "bucket_minutes 7 does not divide a day"),
        ({"bucket_minutes": 0}, "bucket_minutes", "bucket_minutes 0"),
        ({"holidays": "Nippon"}, "holidays", "unknown holiday calendar 'Nippon'"),
    ],
)
def test_a_setting_the_detector_cannot_use_is_refused_by_name(setting, field, message):
    # at construction, not halfway through a replay (a bad timezone used to surface from zoneinfo there)
    with pytest.raises(ConfigError, match=message) as refused:
        DetectorConfig(**setting)
    assert refused.value.field == field


def test_valid_settings_are_kept_and_the_calendar_normalised():
    config = DetectorConfig(bucket_minutes=15, timezone="America/New_York", sensitivity="high", holidays="us")
    assert (config.bucket_minutes, config.timezone, config.sensitivity, config.holidays) == (
        15,
        "America/New_York",
        "high",
        "US",
    )


def test_signal_at_is_bucket_start():
    points = make_series(3, 20, seed=7, multiplier=ramp(700, 1, 8.0, 24))
    signals = replay(points, DetectorConfig())
    starts = {p.start for p in points}
    assert signals and all(s.at in starts for s in signals)
    assert all(s.at - points[0].start >= timedelta(hours=3) for s in signals)
