"""Alert policy: persistence, quiet period, one signal per event, escalation only upwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detectors import DetectorConfig, replay
from detectors.calibration import PRESETS
from detectors.policy import step
from detectors.state import EventState
from tests.detectors.synthetic import make_series, ramp

T0 = datetime(2024, 1, 1, tzinfo=UTC)
FIVE = timedelta(minutes=5)
NORMAL = PRESETS["normal"]
LOW = PRESETS["low"]


def run(conditions, rule=NORMAL):
    """conditions: (fire, active, level) per bucket → list of (bucket index, severity, escalation)."""
    event = EventState()
    out = []
    for i, (fire, active, level) in enumerate(conditions):
        event, decision = step(event, T0 + i * FIVE, fire, active, level, rule)
        if decision:
            out.append((i, decision.severity, decision.escalation))
    return out


def test_one_event_one_signal():
    assert run([(True, True, 1)] * 50) == [(0, "attention", False)]


def test_escalation_only_upwards():
    seq = [(True, True, 1)] * 3 + [(True, True, 2)] * 3 + [(True, True, 1)] * 3 + [(True, True, 3)] * 2
    assert run(seq) == [(0, "attention", False), (3, "warning", True), (9, "flame", True)]


def test_quiet_period_then_new_event():
    quiet = NORMAL.quiet_minutes // 5
    seq = [(True, True, 2)] * 2 + [(False, False, 1)] * (quiet - 1) + [(True, True, 2)]
    assert run(seq) == [(0, "warning", False)]  # within the quiet period: same event
    seq = [(True, True, 2)] * 2 + [(False, False, 1)] * (quiet + 1) + [(True, True, 2)]
    assert run(seq) == [(0, "warning", False), (quiet + 3, "warning", False)]


def test_active_without_firing_keeps_event_open():
    quiet = NORMAL.quiet_minutes // 5
    seq = [(True, True, 1)] + [(False, True, 1)] * (3 * quiet) + [(True, True, 1)]
    assert run(seq) == [(0, "attention", False)]


def test_persistence():
    assert LOW.persistence == 2
    assert run([(True, True, 1), (False, False, 1), (True, True, 1)], LOW) == []
    assert run([(True, True, 1), (True, True, 1)], LOW) == [(1, "attention", False)]


def test_escalating_flame_up_end_to_end():
    day = 288
    onset = 8 * day + 100
    points = make_series(
        10, 20, seed=21, multiplier=ramp(onset, 12, 10.0, 24),
        share_at=lambda i: 0.15 if i < onset else min(0.6, 0.15 + 0.45 * (i - onset + 1) / 12),
    )  # fmt: skip
    signals = replay(points, DetectorConfig())
    volume = [s for s in signals if s.kind == "volume"]
    assert not volume[0].escalation and all(s.escalation for s in volume[1:])
    ranks = ["attention", "warning", "flame"]
    assert [ranks.index(s.severity) for s in volume] == sorted({ranks.index(s.severity) for s in volume})
    assert volume[-1].severity == "flame"
    assert sum(not s.escalation for s in signals if s.kind == "negativity") == 1
