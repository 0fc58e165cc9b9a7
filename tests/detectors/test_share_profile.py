"""The negative share's time of day: a tone that turns at the same hours every day is usual, not news."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from detectors import DetectorConfig, detect_tick, replay
from detectors.negativity import share_baseline
from detectors.series import build_frame
from detectors.share_profile import PROFILE_DAYS, DayKinds, profile_offsets
from tests.detectors.synthetic import BUCKETS_PER_DAY, START, daily_shares, make_series

DAY = BUCKETS_PER_DAY
EVENING = (19 * 12, 22 * 12)  # 19:00-22:00 brand-local, in buckets of the day (START is local midnight)


def evening_tone(base: float | np.ndarray = 0.12, bump: float = 0.18, extra: dict[int, float] | None = None):
    """The share per bucket: `base` (or `base[day]`), plus `bump` from 19:00 to 22:00 every day, plus
    `extra` at buckets."""
    extra = extra or {}
    days = np.atleast_1d(np.asarray(base, dtype=np.float64))

    def share_at(i: int) -> float:
        evening = EVENING[0] <= i % DAY < EVENING[1]
        return float(days[i // DAY % days.shape[0]]) + (bump if evening else 0.0) + extra.get(i, 0.0)

    return share_at


def negativity_signals(points, sensitivity: str = "normal"):
    week = points[7 * DAY].start
    return [
        s
        for s in replay(points, DetectorConfig(sensitivity=sensitivity))
        if s.kind == "negativity" and s.at >= week
    ]


def offsets_at(points, index: int, widths: list[int]):
    frame = build_frame(points, 5, "Asia/Tokyo", START)
    pos = np.array([index], dtype=np.int64)
    baseline = share_baseline(frame, pos)
    profiles = profile_offsets(frame, pos, widths, baseline.week, baseline.kinds)
    return [float(p.offset[0]) for p in profiles], float(baseline.week[0])


def test_an_evening_that_is_always_more_negative_opens_no_incident():
    # 12 % by day, 30 % every evening, at high volume: against the week alone each evening is a shift
    # of +16 points over ~150 posts an hour, and incidents opened on 2 of these 3 evenings
    points = make_series(10, 120, seed=7, share_at=evening_tone())
    for sensitivity in ("normal", "high"):
        assert negativity_signals(points, sensitivity) == [], sensitivity


def test_the_evening_offset_is_learnt_and_the_afternoon_stays_at_the_week():
    points = make_series(9, 120, seed=7, share_at=evening_tone())
    evening, week = offsets_at(points, 8 * DAY + 20 * 12 + 11, [3, 12, 36])  # 20:55, 15 min .. 3 h
    assert 0.10 < week < 0.18  # the week pools day and evening
    assert all(0.09 < o < 0.21 for o in evening[:2]), evening  # 1 h windows inside 19-22: ≈ 30 % − week
    assert 0.04 < evening[2] < evening[1]  # the 3 h window holds an hour of afternoon
    afternoon, _ = offsets_at(points, 8 * DAY + 15 * 12, [3, 12, 36])
    assert all(-0.06 < o <= 0.0 for o in afternoon), afternoon  # no more negative than the week


def test_a_brand_without_a_time_of_day_keeps_the_week_as_its_bar():
    # the same volume and week share, the same tone all day: the shrunk offsets stay near zero
    points = make_series(9, 120, seed=7, share=0.15)
    hours = [8 * DAY + h * 12 for h in (3, 9, 15, 21)]
    offsets = [o for at in hours for o in offsets_at(points, at, [3, 12, 36])[0]]
    assert max(abs(o) for o in offsets) < 0.02, offsets


def test_one_past_flame_up_at_the_same_hour_does_not_become_the_bar():
    # a +40-point afternoon on day 5 at 15:00-18:00: the highest day is left out of the profile
    flame = {5 * DAY + 15 * 12 + k: 0.40 for k in range(36)}
    points = make_series(9, 120, seed=7, share=0.15, share_at=evening_tone(0.15, 0.0, flame))
    offsets, _ = offsets_at(points, 8 * DAY + 17 * 12, [3, 12, 36])
    assert max(abs(o) for o in offsets) < 0.03, offsets


def test_a_flame_up_in_the_evening_is_still_caught_against_the_evening():
    # the usual evening is 30 %; at 20:00 on day 8 it jumps by 25 points to 55 %
    at = 8 * DAY + 20 * 12
    shift = {at + k: 0.25 for k in range(36)}
    points = make_series(9, 120, seed=7, share_at=evening_tone(extra=shift))
    signals = negativity_signals(points)
    assert signals, "the evening +25-point shift was not caught"
    first = signals[0]
    assert points[at].start <= first.at <= points[at].start + timedelta(hours=1)
    # its evidence is the evening's: the usual share at this hour (≈ 30 %), not the week's (≈ 13 %)
    assert 0.22 < first.baseline_share < 0.34
    if first.test.startswith("betabinom_share_"):
        total = first.observed / first.negative_share
        assert first.expected / total == pytest.approx(first.baseline_share, abs=1e-3)


def test_few_earlier_days_give_no_offset():
    points = make_series(3.5, 120, seed=7, share_at=evening_tone())
    frame = build_frame(points, 5, "Asia/Tokyo", START)
    pos = np.array([2 * DAY + 20 * 12], dtype=np.int64)  # two earlier evenings only
    week = np.array([0.15])
    kinds = DayKinds(np.zeros((2, 1)), np.zeros((2, 1)))
    assert [float(p.offset[0]) for p in profile_offsets(frame, pos, [3, 12], week, kinds)] == [0.0, 0.0]
    assert PROFILE_DAYS >= 3


def test_the_evening_is_not_mistaken_for_days_that_differ():
    # days differ in tone (±7 points); the evening brand's between-day over-dispersion is its flat
    # twin's, not inflated by its evenings (it was 3.4× before the blocks knew their hours, and a
    # +25-point shift then needed far more posts to be seen)
    rhos = []
    days = daily_shares(0.12, seed=3, concentration=20.0)
    for share_at in (evening_tone(days), evening_tone(days + 0.02, 0.0)):
        points = make_series(9, 120, seed=7, share_at=share_at)
        frame = build_frame(points, 5, "Asia/Tokyo", START)
        pos = np.arange(8 * DAY, 9 * DAY - 1, 7, dtype=np.int64)
        rhos.append(float(np.median(share_baseline(frame, pos).rho)))
    evening, flat = rhos
    assert flat > 0.0025 and evening < 1.5 * flat, rhos


def test_the_live_tick_reports_the_usual_share_at_this_hour():
    # the chart's expected negatives follow the evening: the tick's usual share is the evening's
    points = make_series(9, 120, seed=7, share_at=evening_tone())
    config = DetectorConfig()
    evening = detect_tick(points[: 8 * DAY + 20 * 12 + 1], config, None).baseline_share
    afternoon = detect_tick(points[: 8 * DAY + 15 * 12 + 1], config, None).baseline_share
    assert evening is not None and afternoon is not None
    assert 0.25 < evening < 0.35 and 0.10 < afternoon < 0.15
