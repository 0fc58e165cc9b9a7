"""The step test: a sudden change of tone against the hours before it, backed by the long-run test."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from detectors import DetectorConfig, engine, replay
from detectors.series import build_frame
from detectors.share_step import PRIOR_DAYS, StepTest, step_tests
from tests.detectors.synthetic import START, make_series, shifted

DAY = 288
EVENT = 8 * DAY + 100  # 08:20 brand-local on day 8


def negativity_signals(points, sensitivity: str = "normal"):
    """Negativity signals once the brand has a week of history (before, the day-to-day swing of its
    tone is still unknown and a first doubling of the share may alarm: not what these tests are about)."""
    week = points[7 * DAY].start
    signals = replay(points, DetectorConfig(sensitivity=sensitivity))
    return [s for s in signals if s.kind == "negativity" and s.at >= week]


@pytest.fixture
def rules(monkeypatch):
    """Replace one sensitivity's share rule for a test (to show what a part of the rule does)."""

    def set_rule(sensitivity: str, **changes: float) -> None:
        table = dict(engine.SHARE_RULES)
        table[sensitivity] = replace(table[sensitivity], **changes)
        monkeypatch.setattr(engine, "SHARE_RULES", table)  # where the detector looks the rule up

    return set_rule


# A high-volume brand whose days alternate between 10 % and 20 % negative (±5 points around its week);
# day 8 is one of the calm ones, and at 08:20 its tone jumps by 25 points (10 % → 35 %).
WEEK = [0.10, 0.20] * 5 + [0.10]


def calm_day_shift():
    return make_series(9, 200, seed=41, share_at=shifted(WEEK, EVENT, 0.25))


def test_sudden_shift_on_a_calm_day_is_caught_within_the_hour():
    points = calm_day_shift()
    signals = negativity_signals(points)
    assert signals, "the +25-point shift was not caught"
    first = signals[0]
    assert points[EVENT].start <= first.at <= points[EVENT].start + timedelta(minutes=30)
    assert first.test.startswith("betabinom_step_")
    # the evidence is the step's: expected from the hours before (≈ 10 %), not from the week (≈ 15 %)
    assert first.expected / (first.observed / first.negative_share) < 0.125
    assert first.observed > first.upper > first.expected


def test_without_the_step_test_the_same_shift_is_late(rules):
    rules("normal", z_support=99.0)  # a step alert needs an impossible long-run score: long-run alone
    points = calm_day_shift()
    signals = negativity_signals(points)
    assert not signals or signals[0].at > points[EVENT].start + timedelta(minutes=60)


# Five days before the shift, a flame-up began at the same clock time (+30 points for three hours).
def shift_after(flame_up: float, seed: int):
    earlier = shifted(WEEK, EVENT - 5 * DAY, flame_up)
    return make_series(
        9, 200, seed=seed, share_at=lambda i: earlier(i) + (0.25 if EVENT <= i < EVENT + 36 else 0.0)
    )


@pytest.mark.parametrize("seed", [41, 43])
def test_a_past_flame_up_at_this_hour_is_not_the_usual_change(seed):
    points = shift_after(0.30, seed)

    def spreads(points) -> list[float]:
        frame = build_frame(points, 5, "Asia/Tokyo", START)
        return [float(t.spread[0]) for t in step_tests(frame, np.array([EVENT + 2], dtype=np.int64), [3, 12])]

    # one day's change of 15-20 s.d. among seven of sampling noise: the usual change stays near what it
    # is without that day (1.3-2.6 against 1.0-1.4 on five seeds; without the cap 2.4-6.6)
    for spread, without in zip(spreads(points), spreads(shift_after(0.0, seed)), strict=True):
        assert spread < 2.0 * without
    signals = negativity_signals(points)
    assert signals, "the +25-point shift was not caught"
    assert signals[0].at <= points[EVENT].start + timedelta(minutes=30)
    assert signals[0].test.startswith("betabinom_step_")


# Days alternate between 5 % and 33 % negative: every midnight the tone jumps by 28 points, a sudden
# step far over the floors — but the brand's new day always starts in another tone (the usual change at
# that hour), and its week says such days are usual.
SWINGING = [0.05, 0.33] * 5 + [0.05]


def test_a_new_day_in_a_new_tone_is_not_a_flame_up():
    points = make_series(9, 200, seed=42, share_at=lambda i: SWINGING[i // DAY])
    assert negativity_signals(points) == []


@pytest.mark.parametrize("sensitivity", ["low", "normal", "high"])
def test_step_needs_the_floors_too(sensitivity):
    # +8 points in a sudden step: significant at this volume, but under every sensitivity's share floor
    points = make_series(9, 200, seed=44, share_at=shifted(WEEK, EVENT, 0.07))
    assert negativity_signals(points, sensitivity) == []


def one_step(frame, pos: np.ndarray) -> StepTest:
    """The step test of the 1-hour window (12 buckets) at `pos`, with the 15-minute one beside it (the
    two are computed in one pass: each must come out as if alone)."""
    (_, hour) = step_tests(frame, pos, [3, 12])
    assert step_tests(frame, pos, [12])[0].pvalue.tolist() == hour.pvalue.tolist()
    return hour


def morning_turn(i: int) -> float:
    """Every day the tone turns at 08:00 brand-local: 10 % negative at night, 25 % from the morning."""
    return 0.25 if i % DAY >= 8 * 12 else 0.10


def test_a_change_the_brand_makes_every_day_at_this_hour_is_usual():
    frame = build_frame(make_series(9, 200, seed=45, share_at=morning_turn), 5, "Asia/Tokyo", START)
    at_turn = np.array([8 * DAY + 8 * 12 + 5], dtype=np.int64)  # 08:30 on day 8
    afternoon = np.array([8 * DAY + 15 * 12], dtype=np.int64)
    turn, calm = one_step(frame, at_turn), one_step(frame, afternoon)
    assert calm.days[0] == 8 + PRIOR_DAYS  # every earlier day it has
    assert turn.days[0] == 8 - 1 + PRIOR_DAYS  # and one spent on the usual change, which is a turn here
    # the step test expects the turn (half the hour at 25 %, after the night's 10 %) and knows how
    # much it varies: a few s.d. of sampling noise, not the many s.d. of the turn itself
    assert 0.15 < turn.share[0] < 0.20 and turn.spread[0] < 2.0 and calm.spread[0] < 2.0
    assert turn.pvalue[0] > 0.01  # today's turn is one more of them


def test_a_flame_up_as_the_tone_turns_stands_out_from_the_turn():
    # the same brand, and on day 8 the morning turns to 40 % instead of 25 %: a flame-up that begins as
    # the tone turns (before: the step test's usual change was the turn's size, 10 s.d., which hid it)
    def worse_turn(i: int) -> float:
        return morning_turn(i) + (0.15 if 8 * DAY + 8 * 12 <= i < 8 * DAY + 11 * 12 else 0.0)

    frame = build_frame(make_series(9, 200, seed=45, share_at=worse_turn), 5, "Asia/Tokyo", START)
    result = one_step(frame, np.array([8 * DAY + 8 * 12 + 11], dtype=np.int64))  # 08:55
    assert 0.22 < result.share[0] < 0.28  # the usual turn: 25 %, observed ~40 %
    assert result.pvalue[0] < 1e-7  # clears z 5 after the three-scale correction


def test_the_same_change_at_an_hour_where_tone_holds_stands_out():
    def afternoon_shift(i: int) -> float:
        return morning_turn(i) + (0.15 if 8 * DAY + 15 * 12 <= i < 8 * DAY + 18 * 12 else 0.0)

    frame = build_frame(make_series(9, 200, seed=45, share_at=afternoon_shift), 5, "Asia/Tokyo", START)
    result = one_step(frame, np.array([8 * DAY + 15 * 12 + 11], dtype=np.int64))
    assert result.pvalue[0] < 1e-7  # clears z 5 after the three-scale correction


def test_step_test_needs_a_few_earlier_days():
    frame = build_frame(make_series(2.5, 200, seed=46), 5, "Asia/Tokyo", START)
    result = one_step(frame, np.array([2 * DAY + 100], dtype=np.int64))
    assert result.days[0] == 2 + PRIOR_DAYS and np.isnan(result.share[0]) and result.pvalue[0] == 1.0


def test_a_thin_reference_gives_no_opinion():
    frame = build_frame(make_series(9, 0.1, seed=47), 5, "Asia/Tokyo", START)  # ~1 post an hour
    result = one_step(frame, np.array([8 * DAY + 100], dtype=np.int64))
    assert np.isnan(result.share[0]) and result.pvalue[0] == 1.0


def evening_backlog_with_flame_up(seed: int) -> tuple[list, int]:
    """A support line's evening backlog: each day's tone (~12 %, days differ by ±4 points) plus 18 points
    from 19:00 to 22:00; on day 15 a +25-point flame-up begins at 22:15, as the backlog clears."""
    rng = np.random.default_rng(seed + 1000)
    day_tone = rng.beta(0.12 * 60, 0.88 * 60, size=16)
    onset = 15 * DAY + 22 * 12 + 3

    def share_at(i: int) -> float:
        day, bucket = divmod(i, DAY)
        backlog = 0.18 if 19 * 12 <= bucket < 22 * 12 else 0.0
        return day_tone[day] + backlog + (0.25 if onset <= i < onset + 36 else 0.0)

    return make_series(16, 20, seed=seed, share_at=share_at), onset


@pytest.mark.parametrize("seed", [4, 7])
def test_a_flame_up_as_the_evening_backlog_clears_is_caught_within_the_hour(seed: int) -> None:
    # Every evening the share falls by 18 points at 22:00, so the step from the evening's reference is
    # small; against the usual fall it is 25 points (before: the fall was the usual change's size, and
    # neither test caught this within the 3 h)
    points, onset = evening_backlog_with_flame_up(seed)
    signals = [s for s in replay(points, DetectorConfig()) if s.kind == "negativity" and not s.escalation]
    caught = [s for s in signals if s.at >= points[onset].start]
    assert caught and caught[0].test.startswith("betabinom_step_")
    assert caught[0].at - points[onset].start < timedelta(hours=1)
