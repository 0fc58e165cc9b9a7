"""Volume detection on synthetic series: what fires, and when."""

from __future__ import annotations

from datetime import timedelta

from detectors import BucketPoint, DetectorConfig, replay
from tests.detectors.synthetic import START, make_series, ramp

DAY = 288  # 5-minute buckets per day
EVENT = 8 * DAY + 100  # day 8, 08:20 Tokyo


def new_events(signals, kind="volume"):
    return [s for s in signals if s.kind == kind and not s.escalation]


def test_quiet_seasonal_brand_is_silent():
    for seed, per_bucket in [(1, 20), (11, 2), (12, 60)]:
        assert replay(make_series(10, per_bucket, seed=seed), DetectorConfig()) == []


def test_spike_fires_once_at_onset():
    points = make_series(10, 20, seed=2, multiplier=ramp(EVENT, 1, 5.0, 3))
    signals = replay(points, DetectorConfig())
    assert len(signals) == 1
    (s,) = signals
    assert s.kind == "volume" and not s.escalation
    assert points[EVENT].start <= s.at <= points[EVENT + 1].start
    assert s.test == "nb_tail_15m" and s.observed > s.upper > s.expected
    assert s.severity in ("warning", "flame")


def test_plateau_gives_one_event():
    points = make_series(10, 20, seed=3, multiplier=ramp(EVENT, 1, 3.0, 2 * DAY))
    events = new_events(replay(points, DetectorConfig()))
    assert len(events) == 1
    assert points[EVENT].start <= events[0].at <= points[EVENT + 3].start


def test_slow_burn_is_caught_within_two_hours():
    points = make_series(10, 20, seed=4, multiplier=ramp(EVENT, 36, 2.5, 36))
    events = new_events(replay(points, DetectorConfig()))
    assert len(events) == 1
    assert points[EVENT].start < events[0].at <= points[EVENT].start + timedelta(hours=2)
    assert events[0].test in ("nb_tail_1h", "nb_tail_3h")


def test_regular_daily_peak_does_not_fire_once_seasonality_is_known():
    def lunch_peak(minutes_utc: float) -> float:
        local_hour = (minutes_utc / 60 + 9) % 24
        return 5.0 if 12 <= local_hour < 13 else 1.0

    points = make_series(10, 10, seed=5, shape=lunch_peak)
    signals = replay(points, DetectorConfig())
    # the first days cannot tell a daily peak from a spike; from day 4 on the profile knows it
    assert all(s.at < START + timedelta(days=4) for s in signals)


def test_weekday_weekend_pattern_is_silent():
    def weekly(minutes_utc: float) -> float:
        local = START + timedelta(minutes=minutes_utc, hours=9)
        return (0.4 if local.weekday() >= 5 else 1.0) * (1.5 if 9 <= local.hour < 18 else 0.7)

    points = make_series(28, 15, seed=6, shape=weekly)
    signals = replay(points, DetectorConfig())
    assert all(s.at < START + timedelta(days=4) for s in signals)


def test_missing_buckets_are_zero_and_do_not_alarm():
    points = make_series(10, 20, seed=7)
    outage = range(8 * DAY, 8 * DAY + 30)  # 2.5 h collector outage: the buckets are simply absent
    kept = [p for i, p in enumerate(points) if i not in outage]
    assert replay(kept, DetectorConfig()) == []


def test_spike_after_missing_data_still_fires():
    points = make_series(10, 20, seed=8, multiplier=ramp(EVENT, 1, 6.0, 4))
    kept = [p for i, p in enumerate(points) if not (3 * DAY <= i < 4 * DAY)]  # a whole day missing
    (event,) = new_events(replay(kept, DetectorConfig()))
    assert points[EVENT].start <= event.at <= points[EVENT + 1].start


def test_robust_to_past_spikes():
    spikes = {2 * DAY + 100, 4 * DAY + 100, 6 * DAY + 100}  # same time of day, three earlier days

    def mult(i: int) -> float:
        return 8.0 if any(s <= i < s + 3 for s in spikes) or EVENT <= i < EVENT + 3 else 1.0

    points = make_series(10, 20, seed=9, multiplier=mult)
    events = new_events(replay(points, DetectorConfig()))
    assert points[EVENT].start in [e.at for e in events]


def test_tiny_brand_floors():
    # about one post an hour; five posts in one bucket is unusual but not worth a page
    points = make_series(10, 0.1, seed=10)
    burst = [BucketPoint(p.start, 5, 0, 5, 0) if i == EVENT else p for i, p in enumerate(points)]
    assert replay(burst, DetectorConfig()) == []
    # forty posts is worth one
    loud = [BucketPoint(p.start, 40, 0, 40, 0) if i == EVENT else p for i, p in enumerate(points)]
    assert [s.at for s in replay(loud, DetectorConfig())] == [points[EVENT].start]
    # the same forty posts from two accounts (authors known): no page
    few = [BucketPoint(p.start, 40, 0, 2, 0) if i == EVENT else p for i, p in enumerate(points)]
    assert replay(few, DetectorConfig()) == []


def test_sensitivity_orders_alerts():
    points = make_series(10, 20, seed=13, multiplier=ramp(EVENT, 6, 1.9, 12))
    counts = {s: len(replay(points, DetectorConfig(sensitivity=s))) for s in ("low", "normal", "high")}
    assert counts["low"] <= counts["normal"] <= counts["high"]
    assert counts["high"] >= 1 and counts["low"] == 0


def test_dst_timezone_daily_peak_is_silent():
    def ny_peak(minutes_utc: float) -> float:
        utc = START + timedelta(minutes=minutes_utc)
        # New York: UTC-5 until 10 March 2024, UTC-4 after; peak 09:00–10:00 local
        offset = -4 if utc >= START.replace(day=10, hour=7) else -5
        local_hour = (utc.hour + offset) % 24
        return 4.0 if local_hour == 9 else 1.0

    points = make_series(14, 10, seed=14, shape=ny_peak)
    signals = replay(points, DetectorConfig(timezone="America/New_York"))
    assert all(s.at < START + timedelta(days=4) for s in signals)
