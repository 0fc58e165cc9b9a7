"""Negativity detection and the new-brand flame-up demo."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from detectors import BucketPoint, DetectorConfig, replay
from detectors.negativity import SHARE_RULES, ShareResult, block_rho, share_baseline, share_conditions
from detectors.series import build_frame
from detectors.share_step import StepTest
from tests.detectors.synthetic import START, daily_shares, make_series, ramp, shifted

DAY = 288
EVENT = 8 * DAY + 100


def test_share_rise_on_steady_volume_is_caught():
    points = make_series(10, 20, seed=6, share=0.1, share_at=lambda i: 0.4 if i >= EVENT else 0.1)
    signals = replay(points, DetectorConfig())
    assert [s.kind for s in signals] == ["negativity"]
    (s,) = signals
    assert points[EVENT].start <= s.at <= points[EVENT].start + timedelta(minutes=30)
    assert s.baseline_share is not None and 0.07 < s.baseline_share < 0.13
    assert s.negative_share is not None and s.negative_share > 0.3
    assert s.test.startswith("betabinom_share_") and s.observed > s.upper > s.expected


def test_always_negative_brand_is_silent():
    assert replay(make_series(10, 20, seed=7, share=0.6), DetectorConfig()) == []


def test_always_negative_brand_still_sees_its_own_rise():
    points = make_series(10, 20, seed=8, share=0.5, share_at=lambda i: 0.8 if i >= EVENT else 0.5)
    assert [s.kind for s in replay(points, DetectorConfig())] == ["negativity"]


def test_past_flame_does_not_blind_the_baseline():
    def share(i: int) -> float:
        return 0.7 if 6 * DAY <= i < 6 * DAY + 24 or i >= EVENT else 0.1

    signals = replay(make_series(10, 20, seed=9, share=0.1, share_at=share), DetectorConfig())
    negativity = [s for s in signals if s.kind == "negativity"]
    late = [s for s in negativity if not s.escalation and s.at.day >= 12]
    assert len(late) == 1 and late[0].baseline_share is not None and late[0].baseline_share < 0.15


def test_volume_rise_with_steady_share_is_not_negativity():
    points = make_series(10, 20, seed=10, multiplier=ramp(EVENT, 1, 6.0, 12))
    assert {s.kind for s in replay(points, DetectorConfig())} == {"volume"}


def demo_series(seed: int):
    """A new brand: 27 h of history, a flame-up in the last 3 h (7×, share 15 % → 60 % over 45 min)."""
    n = 27 * 12
    onset = n - 36
    share = lambda i: 0.15 if i < onset else min(0.6, 0.15 + 0.45 * (i - onset + 1) / 9)  # noqa: E731
    points = make_series(27 / 24, 20, seed=seed, multiplier=ramp(onset, 9, 7.0, 27), share_at=share)
    return points, onset


def test_new_brand_flame_up_opens_one_incident_per_kind():
    for seed in range(5):
        points, onset = demo_series(seed)
        signals = replay(points, DetectorConfig())
        opened = [s for s in signals if not s.escalation]
        assert sorted(s.kind for s in opened) == ["negativity", "volume"], seed
        for s in opened:  # nothing on the quiet part; caught within 45 minutes of the onset
            assert points[onset].start <= s.at <= points[onset].start + timedelta(minutes=45)
        assert max(s.severity for s in signals if s.kind == "volume") == "flame" or any(
            s.severity == "flame" for s in signals
        )


def test_new_brand_is_quiet_then_detects_after_a_few_hours():
    points = make_series(1, 20, seed=11)
    assert replay(points, DetectorConfig()) == []
    # a burst at 4 h into the brand's life is already caught
    burst = make_series(1, 20, seed=12, multiplier=ramp(48, 1, 8.0, 3))
    events = [s for s in replay(burst, DetectorConfig()) if not s.escalation]
    assert [s.at for s in events] == [burst[48].start]
    # a burst in the first two hours is not judged (no baseline yet)
    early = make_series(1, 20, seed=13, multiplier=ramp(20, 1, 8.0, 3))
    assert replay(early, DetectorConfig()) == []


# --- issue 3: +25-point shifts within the hour at every volume, without false alarms -------------------


def first_negativity(signals):
    return next((s for s in signals if s.kind == "negativity" and not s.escalation), None)


@pytest.mark.parametrize("per_bucket", [3, 20, 200])
def test_ten_to_forty_percent_on_steady_volume_fires_within_the_hour(per_bucket):
    caught = []
    for seed in range(4):
        days = np.full(11, 0.10)
        points = make_series(9, per_bucket, seed=100 + seed, share_at=shifted(days, EVENT, 0.30))
        signals = replay(points, DetectorConfig())
        s = first_negativity(signals)
        assert s is None or s.at >= points[EVENT].start  # nothing before the shift
        caught.append(s is not None and s.at <= points[EVENT].start + timedelta(minutes=55))
    assert sum(caught) >= 3, caught


@pytest.mark.parametrize("per_bucket", [3, 20, 200])
def test_always_criticised_brand_does_not_fire(per_bucket):
    for seed in range(2):  # 40 % every day, give or take a couple of points
        days = daily_shares(0.40, seed=per_bucket + seed, concentration=400.0)
        points = make_series(9, per_bucket, seed=200 + seed, share_at=lambda i, d=days: float(d[i // DAY]))
        assert [s for s in replay(points, DetectorConfig()) if s.kind == "negativity"] == []


def test_two_negatives_out_of_three_posts_do_not_fire():
    # a tiny brand (~1 post an hour, 10 % negative), then three posts in a bucket, two of them negative
    points = make_series(10, 0.08, seed=300, share=0.1)
    spike = points[EVENT]
    points[EVENT] = BucketPoint(spike.start, 3, 2, 3)
    for sensitivity in ("low", "normal", "high"):
        signals = replay(points, DetectorConfig(sensitivity=sensitivity))
        assert [s for s in signals if s.kind == "negativity"] == [], sensitivity


def test_excess_negatives_floor_blocks_tiny_counts_but_not_real_shifts():
    frame = build_frame(make_series(9, 20, seed=301, share=0.1), 5, "Asia/Tokyo", START)
    pos = np.array([frame.n - 1], dtype=np.int64)
    base = share_baseline(frame, pos)
    rule = SHARE_RULES["normal"]
    no_step = StepTest(*(np.array([v]) for v in (np.nan, 0.0, 1.0, 1.0, 0.0)))
    at_baseline = (no_step, base.share, base.rho)
    tiny = ShareResult(
        "15m", 3, np.array([2.0]), np.array([3.0]), np.array([1e-12]), np.array([3.0]), *at_baseline
    )
    real = ShareResult(
        "1h", 12, np.array([96.0]), np.array([240.0]), np.array([1e-12]), np.array([230.0]), *at_baseline
    )
    score = np.array([[30.0], [30.0]])
    cond = share_conditions([tiny, real], score, np.zeros_like(score), rule, 0, 0.12, 0)
    assert cond.qualify[:, 0].tolist() == [False, True]


def test_shift_inside_a_volume_spike_reports_its_evidence():
    days = np.full(11, 0.10)
    share = shifted(days, EVENT, 0.40, hours=6)
    points = make_series(10, 20, seed=400, multiplier=ramp(EVENT, 3, 5.0, 48), share_at=share)
    signals = replay(points, DetectorConfig())
    opened = {s.kind: s for s in signals if not s.escalation}
    assert set(opened) == {"volume", "negativity"}
    s = opened["negativity"]
    assert points[EVENT].start <= s.at <= points[EVENT].start + timedelta(minutes=30)
    assert s.test in {"betabinom_share_15m", "betabinom_share_1h", "betabinom_share_3h"}
    assert s.baseline_share is not None and 0.08 < s.baseline_share < 0.12
    assert s.negative_share is not None and s.negative_share > s.baseline_share + 0.2
    # observed = negatives in the window, expected = posts in it × baseline share, upper = the alert bound
    assert s.observed > s.upper > s.expected > 0
    assert s.severity in ("warning", "flame")  # 5× volume with +40 points negative


def test_series_without_negative_counts_never_fires_negativity():
    points = make_series(10, 20, seed=500, multiplier=ramp(EVENT, 1, 6.0, 12))
    bare = [BucketPoint(p.start, p.total) for p in points]  # like NAB: no negative column
    signals = replay(bare, DetectorConfig())
    assert signals and {s.kind for s in signals} == {"volume"}
    assert all(s.baseline_share is not None and s.baseline_share < 0.01 for s in signals)


def blocks(points, pos: int, hours: int = 6, count: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Negative and total counts of the `count` blocks of `hours` ending at `pos` (most recent first)."""
    width = hours * 12
    neg = [sum(p.negative for p in points[pos - (k + 1) * width : pos - k * width]) for k in range(count)]
    tot = [sum(p.total for p in points[pos - (k + 1) * width : pos - k * width]) for k in range(count)]
    return np.array([neg], dtype=np.float64), np.array([tot], dtype=np.float64)


def test_overdispersion_is_the_brands_own_and_not_lowered_by_a_past_flame():
    # days drawn from Beta(concentration 60) (intra-class correlation 1/61); judged against the days drawn
    days = daily_shares(0.15, 7)
    varied = make_series(9, 200, seed=600, share_at=lambda i: float(days[i // DAY]))
    realised = float(np.var(days[2:9], ddof=1) / (0.15 * 0.85))
    steady = make_series(9, 200, seed=601, share=0.15)
    flamed = [
        BucketPoint(p.start, p.total, p.total // 2 if 5 * DAY <= i < 5 * DAY + 36 else p.negative, p.authors)
        for i, p in enumerate(steady)
    ]
    rhos = []
    for series in (varied, steady, flamed):
        neg, tot = blocks(series, len(series))
        pi = np.array([neg.sum() / tot.sum()])
        rhos.append(float(block_rho(neg, tot, tot > 0, pi[:, None])[0]))
    assert realised / 2 < rhos[0] < realised * 2
    assert rhos[1] < 0.004  # binomial days: only the prior's weight is left
    assert rhos[2] < 2 * rhos[1] + 0.002  # one past flame-up barely moves it
