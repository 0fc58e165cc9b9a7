"""Alert policy: persistence, quiet period, one signal per event, escalation only upwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detectors import DetectorConfig, replay
from detectors.calibration import PRESETS
from detectors.policy import step
from detectors.state import EventState
from tests.detectors.synthetic import index_at, make_series, ramp

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
    # within the quiet period: the same event, flared again after a rest (a second wave)
    assert run(seq) == [(0, "warning", False), (quiet + 1, "warning", True)]
    seq = [(True, True, 2)] * 2 + [(False, False, 1)] * (quiet + 1) + [(True, True, 2)]
    assert run(seq) == [(0, "warning", False), (quiet + 3, "warning", False)]


def run_waves(conditions, rule=NORMAL):
    """Like `run`, with each decision's reflare flag."""
    event = EventState()
    out = []
    for i, (fire, active, level) in enumerate(conditions):
        event, decision = step(event, T0 + i * FIVE, fire, active, level, rule)
        if decision:
            out.append((i, decision.severity, decision.escalation, decision.reflare))
    return out


def test_second_wave_after_a_rest_is_signalled_once():
    rest = NORMAL.reflare_minutes // 5
    wave = [(True, True, 2)] * 6
    seq = wave + [(False, False, 1)] * rest + wave
    assert run_waves(seq) == [(0, "warning", False, False), (6 + rest, "warning", True, True)]


def test_a_short_lull_is_the_same_wave():
    rest = NORMAL.reflare_minutes // 5
    seq = [(True, True, 2)] * 3 + [(False, False, 1)] * (rest - 2) + [(True, True, 2)] * 3
    assert run_waves(seq) == [(0, "warning", False, False)]


def test_a_wave_that_ramps_through_active_buckets_still_counts():
    rest = NORMAL.reflare_minutes // 5
    seq = [(True, True, 1)] + [(False, False, 1)] * rest + [(False, True, 1)] * 4 + [(True, True, 1)] * 3
    assert run_waves(seq) == [(0, "attention", False, False), (rest + 5, "attention", True, True)]


def test_a_bigger_second_wave_is_one_escalation_not_two_signals():
    rest = NORMAL.reflare_minutes // 5
    seq = [(True, True, 1)] * 2 + [(False, False, 1)] * rest + [(True, True, 3)] * 3
    assert run_waves(seq) == [(0, "attention", False, False), (2 + rest, "flame", True, False)]


def test_rearmed_survives_the_state_round_trip():
    rest = NORMAL.reflare_minutes // 5
    event = EventState()
    for i, (fire, active) in enumerate([(True, True)] + [(False, False)] * rest + [(False, True)]):
        event, _ = step(event, T0 + i * FIVE, fire, active, 1, NORMAL)
    assert event.rearmed
    assert EventState.from_json(event.to_json()) == event
    assert not EventState.from_json({"open": True, "severity": "warning"}).rearmed  # states stored before


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


def test_second_wave_hours_later_is_signalled_as_a_reflare_end_to_end():
    day = 288
    first, second = 8 * day + 100, 8 * day + 100 + 6 * 12  # 6 hours apart, each held for an hour
    waves = [ramp(first, 3, 5.0, 12), ramp(second, 3, 5.0, 12)]
    points = make_series(10, 20, seed=22, multiplier=lambda i: max(w(i) for w in waves))
    signals = [s for s in replay(points, DetectorConfig()) if s.kind == "volume"]
    opened = [s for s in signals if not s.escalation]
    again = [s for s in signals if s.reflare]
    assert len(opened) == 1 and first <= index_at(points, opened[0].at) < first + 6
    assert len(again) == 1 and second <= index_at(points, again[0].at) < second + 6
    assert again[0].escalation and again[0].score >= PRESETS["normal"].z_alert
    # the same two waves two hours apart form one wave: the lull is shorter than reflare_minutes
    close = [ramp(first, 3, 5.0, 12), ramp(first + 12 + 12, 3, 5.0, 12)]
    points = make_series(10, 20, seed=22, multiplier=lambda i: max(w(i) for w in close))
    assert not [s for s in replay(points, DetectorConfig()) if s.reflare]
