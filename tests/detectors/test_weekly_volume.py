"""A weekly pattern in volume: a brand mentioned in a weekly TV programme is not surging every week."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from detectors import DetectorConfig, replay
from detectors.baseline import seasonal_profile
from detectors.series import build_frame
from tests.detectors.synthetic import BUCKETS_PER_DAY, START, make_series

DAY = BUCKETS_PER_DAY
HOUR = 12
SHOW = (21 * HOUR, 22 * HOUR)  # Tuesdays 21:00-22:00 brand-local (START is a Tuesday, local midnight)


def programme(factor: float = 3.0, extra: dict[int, float] | None = None):
    """Volume × `factor` during the show every Tuesday, × `extra[day]` from 21:00 to 22:00 on other days
    (or instead of `factor` on a Tuesday)."""
    extra = extra or {}

    def multiplier(i: int) -> float:
        day, slot = i // DAY, i % DAY
        if not SHOW[0] <= slot < SHOW[1]:
            return 1.0
        return extra.get(day, factor if day % 7 == 0 else 1.0)

    return multiplier


def volume_incidents(points, from_day: int) -> list:
    since = points[from_day * DAY].start
    return [s for s in replay(points, DetectorConfig()) if s.kind == "volume" and s.at >= since]


def test_a_weekly_programme_is_usual_once_three_weeks_show_it():
    points = make_series(36, 20, seed=3, multiplier=programme())
    early = volume_incidents(points[: 15 * DAY], 7)
    assert early, "before three weeks of it, the programme's hour is a surge (the test's premise)"
    assert volume_incidents(points, 21) == []  # the 4th, 5th and 6th Tuesdays


def test_the_programme_hour_expects_the_programme():
    points = make_series(29, 20, seed=3, multiplier=programme())
    frame = build_frame(points, 5, "Asia/Tokyo", START)
    show = np.array([28 * DAY + 21 * HOUR + 11], dtype=np.int64)  # 21:00-22:00 on the 5th Tuesday
    wednesday = show - DAY
    lags = (1, 2, 3, 4, 5, 6, 7, 14, 21)
    at_show = seasonal_profile(frame, frame.csum_total, lags, show, HOUR)[0]
    at_wednesday = seasonal_profile(frame, frame.csum_total, lags, wednesday, HOUR)[0]
    assert 2.3 < at_show / at_wednesday < 3.7, (at_show, at_wednesday)


def test_the_same_burst_on_another_day_is_still_a_surge():
    # three weeks of the programme, then the same ×3 hour on a Wednesday evening
    at = 29 * DAY + SHOW[0]
    points = make_series(30, 20, seed=3, multiplier=programme(extra={29: 3.0}))
    incidents = volume_incidents(points, 29)
    assert incidents and incidents[0].at <= points[at].start + timedelta(minutes=30)


def test_a_bigger_burst_during_the_programme_is_still_a_surge():
    at = 28 * DAY + SHOW[0]
    points = make_series(29, 20, seed=3, multiplier=programme(extra={28: 12.0}))
    incidents = volume_incidents(points, 28)
    assert incidents and incidents[0].at <= points[at].start + timedelta(minutes=30)


def test_two_past_bursts_at_the_hour_do_not_make_it_usual():
    # bursts on two of the last three Tuesdays at 21:00 (not the one three weeks back): not every week,
    # so this week's burst at that hour is still caught
    at = 28 * DAY + SHOW[0]
    weeks = {7: 3.0, 14: 1.0, 21: 3.0, 28: 3.0}
    points = make_series(29, 20, seed=3, multiplier=programme(factor=1.0, extra=weeks))
    incidents = volume_incidents(points, 28)
    assert incidents and incidents[0].at <= points[at].start + timedelta(minutes=30)
