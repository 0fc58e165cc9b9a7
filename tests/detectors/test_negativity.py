"""Negativity detection and the new-brand flame-up demo."""

from __future__ import annotations

from datetime import timedelta

from detectors import DetectorConfig, replay
from tests.detectors.synthetic import make_series, ramp

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
    assert all(s.kind == "negativity" for s in signals)
    late = [s for s in signals if not s.escalation and s.at.day >= 12]
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
