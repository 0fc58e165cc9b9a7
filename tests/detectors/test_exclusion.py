"""An ongoing volume event stays out of the baseline: the expected count is the brand's level before it."""

from __future__ import annotations

from detectors import DetectorConfig, DetectorState, detect_tick, replay
from detectors.engine import EXCLUDE_MAX
from tests.detectors.synthetic import make_series, ramp

DAY = 288
ONSET = 8 * DAY + 130  # day 8, 10:50 Tokyo


def _ticks(points, first: int, last: int, config: DetectorConfig):
    """detect_tick at buckets first..last (as live, state through JSON); (index, result) pairs."""
    state = None
    out = []
    for i in range(first, last + 1):
        result = detect_tick(points[: i + 1], config, state)
        state = DetectorState.from_json(result.state.to_json())
        out.append((i, result))
    return out


def test_long_event_is_judged_against_the_level_before_it():
    # 4x for 20 hours from late morning: without the exclusion the level (median over the hours of the
    # day before the window) would be the plateau's own once it covers half of that day
    points = make_series(10, 20, seed=41, multiplier=ramp(ONSET, 1, 4.0, 20 * 12))
    ticks = _ticks(points, ONSET - 2, ONSET + 16 * 12, DetectorConfig())
    before = next(r.expected for i, r in ticks if i == ONSET - 1)
    opened = [i for i, r in ticks if any(s.kind == "volume" and not s.escalation for s in r.signals)]
    assert opened and ONSET <= opened[0] <= ONSET + 2
    assert len(opened) == 1  # one event for the whole plateau
    late = [(i, r) for i, r in ticks if i >= ONSET + 14 * 12]
    for _, result in late:
        assert result.state.is_open("volume")
        assert result.active["volume"], "fourteen hours in, the plateau is still anomalous"
        # the chart's expected follows the daily cycle of the brand's usual level, not the plateau
        assert result.expected is not None and result.expected < 1.6 * before


def test_recent_mode_event_keeps_pre_event_rate():
    # a new brand (no daily profile yet): flat 10 per bucket, then 8x for 3 hours
    onset = 20 * 12
    points = make_series(1.0, 10, seed=42, amplitude=0.0, multiplier=ramp(onset, 2, 8.0, 36))
    ticks = _ticks(points, onset - 1, onset + 30, DetectorConfig())
    first = next(i for i, r in ticks if r.signals)
    assert onset <= first <= onset + 3
    two_hours = dict(ticks)[onset + 24]
    assert two_hours.state.is_open("volume")
    assert two_hours.expected is not None and two_hours.expected < 15  # pre-event rate ~10, not ~80
    assert two_hours.active["volume"]


def test_permanent_level_shift_is_one_event_that_ends():
    # volume triples for good: one event; after EXCLUDE_MAX the new level is learnt and it ends
    days = 8 + 3
    shift = ramp(ONSET, 1, 3.0, 10 * DAY)
    points = make_series(days, 20, seed=43, multiplier=shift)
    signals = replay(points, DetectorConfig())
    opened = [s for s in signals if s.kind == "volume" and not s.escalation]
    assert len(opened) == 1 and points[ONSET].start <= opened[0].at <= points[ONSET + 2].start
    end = len(points) - 1
    ticks = _ticks(points, end - 1, end, DetectorConfig())
    assert points[end].start - points[ONSET].start > EXCLUDE_MAX
    assert not ticks[-1][1].active["volume"]
