"""A brand with less than a day of history: its first morning is not a surge, a real burst still is.

Until three earlier days give a daily profile, the expected count is the recent level times the
population time-of-day prior (detectors.diurnal). The day below is a Japanese consumer brand's: quiet at
03:00–05:00, five times busier by 08:00, a lunch peak and an evening plateau.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from detectors import BucketPoint, DetectorConfig, Signal, diurnal, replay
from detectors.series import build_frame
from tests.detectors.synthetic import START, make_series, ramp

# (JST hour, posts per 5 minutes), linear in between.
JP_DAY = ((0, 6), (3, 2), (5, 2), (8, 10), (12, 17), (15, 11), (20, 15), (24, 6))
FIRST_BUCKET = datetime(2026, 6, 3, 6, 0, tzinfo=UTC)  # 15:00 JST: the first morning is 16 h away


def jp_day(minutes: float) -> float:
    """Posts per 5 minutes at `minutes` after the synthetic series' START (a UTC midnight + 15 h)."""
    at = START + timedelta(minutes=minutes)
    hours, posts = zip(*JP_DAY, strict=True)
    return float(np.interp((at.hour + at.minute / 60 + 9) % 24, hours, posts))


def first_day(seed: int, multiplier: Callable[[int], float] | None = None) -> list[BucketPoint]:
    return make_series(1, 1.0, seed=seed, start=FIRST_BUCKET, shape=jp_day, multiplier=multiplier)


def volume(signals: list[Signal]) -> list[Signal]:
    return [s for s in signals if s.kind == "volume" and not s.escalation]


@pytest.mark.parametrize("seed", range(6))
def test_first_morning_ramp_opens_nothing(seed: int) -> None:
    assert volume(replay(first_day(seed), DetectorConfig())) == []


def test_without_the_prior_the_same_morning_would_alarm(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test above could fail: a flat time of day (the model before the prior) alarms on some mornings."""
    monkeypatch.setattr(diurnal, "SINGLE_ZONE_EXPONENT", 0.0)  # every hour's multiplier is 1
    monkeypatch.setattr(diurnal, "_TABLES", {})
    fired = [volume(replay(first_day(seed), DetectorConfig())) for seed in range(6)]
    mornings = [s for signals in fired for s in signals if 5 <= (s.at.hour + 9) % 24 < 11]
    assert mornings, "the flat baseline was expected to mistake a morning ramp for a surge"


@pytest.mark.parametrize("seed", range(3))
def test_burst_on_the_first_day_still_fires(seed: int) -> None:
    onset = 20 * 12  # 11:00 JST, 20 h after the first bucket: mid-morning ramp, before the lunch peak
    points = first_day(seed, multiplier=ramp(onset, 3, 5.0, 24))
    events = volume(replay(points, DetectorConfig()))
    assert len(events) == 1
    assert points[onset].start <= events[0].at <= points[onset].start + timedelta(minutes=20)
    assert events[0].observed > 3 * events[0].expected


def test_curve_is_a_normalised_cycle_in_brand_local_time() -> None:
    hours = np.arange(0, 24, 0.25)
    values = diurnal.curve_at(hours)
    assert abs(values.mean() - 1.0) < 0.01 and values.min() > 0.5
    assert diurnal.curve_at(np.array([23.9]))[0] == pytest.approx(diurnal.curve_at(np.array([-0.1]))[0])
    assert diurnal.curve_at(np.array([4.0]))[0] < 0.7 < 1.3 < diurnal.curve_at(np.array([12.0]))[0]
    points = first_day(0)
    tokyo = diurnal.bucket_multipliers(build_frame(points, 5, "Asia/Tokyo", points[0].start))
    new_york = diurnal.bucket_multipliers(build_frame(points, 5, "America/New_York", points[0].start))
    # 06:00 UTC is 15:00 in Tokyo (busy) and 02:00 in New York (quiet, daylight time)
    assert tokyo[0] > 1.5 and new_york[0] < 0.5
    expected = diurnal.curve_at(np.array([15 + 2.5 / 60]))[0] ** diurnal.SINGLE_ZONE_EXPONENT
    assert tokyo[0] == pytest.approx(expected)


def test_collection_gap_on_the_first_day_opens_nothing() -> None:
    """Two hours lost at 06:00–08:00 JST (the ramp itself): afterwards the morning level is not a surge."""
    gap = range(15 * 12, 17 * 12)
    points = [p for i, p in enumerate(first_day(7)) if i not in gap]  # missing buckets = zero mentions
    assert volume(replay(points, DetectorConfig())) == []


def test_brand_with_an_unusual_day_is_not_judged_against_the_prior() -> None:
    """A night-owl brand (3× busier at 01:00–05:00 JST, when the population sleeps): the prior only ever
    raises the expectation, so its first nights do not alarm; from day 4 its own profile knows them."""

    def night_owl(minutes: float) -> float:
        at = START + timedelta(minutes=minutes)
        local = (at.hour + at.minute / 60 + 9) % 24
        return 12.0 if 1 <= local < 5 else 4.0

    points = make_series(8, 1.0, seed=8, start=FIRST_BUCKET, shape=night_owl)
    assert volume(replay(points, DetectorConfig())) == []
