"""Alert policy: from per-bucket conditions to one signal per event, plus escalations.

Per kind, at each bucket:
- `fire`: the alert condition holds (score over the sensitivity's threshold and every floor met);
- `active`: the series is anomalous right now (a lower threshold: hysteresis);
- `level`: the severity the bucket would have (1 attention, 2 warning, 3 flame).

No event open: `fire` must hold for `persistence` consecutive buckets, then an event opens with one
signal (escalation=False). Event open: it stays open while buckets are active and ends after
`quiet_minutes` without one (the cool-down). While open, a bucket that fires at a higher severity than
already signalled gives an escalation signal. An open event whose activity stopped for at least
`reflare_minutes` and that fires again has flared again (a second wave — a news or まとめ pick-up hours
after the first): one more signal (escalation=True, reflare=True) at the severity already reached.
Everything else is silent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from detectors.calibration import Preset
from detectors.state import EventState
from detectors.types import SEVERITIES, severity_rank


@dataclass(frozen=True, slots=True)
class Decision:
    severity: str
    escalation: bool
    reflare: bool = False


def step(
    event: EventState, at: datetime, fire: bool, active: bool, level: int, rule: Preset
) -> tuple[EventState, Decision | None]:
    """Advance one kind's event by one bucket; return the new state and the signal to emit, if any."""
    active = active or fire
    if event.open:
        gap = None if event.last_active_at is None else at - event.last_active_at
        if active:
            # Armed at the first active bucket after the rest, so a wave that ramps up through
            # merely-active buckets before it fires still counts as a new wave.
            rested = gap is not None and gap >= timedelta(minutes=rule.reflare_minutes)
            event = replace(event, last_active_at=at, rearmed=event.rearmed or rested)
        elif gap is None or gap >= timedelta(minutes=rule.quiet_minutes):
            event = EventState()
    if event.open:
        if fire and level > severity_rank(event.severity):
            severity = SEVERITIES[level - 1]
            return replace(event, severity=severity, rearmed=False), Decision(severity, escalation=True)
        if fire and event.rearmed and event.severity is not None:
            return replace(event, rearmed=False), Decision(event.severity, escalation=True, reflare=True)
        return event, None
    streak = event.streak + 1 if fire else 0
    if streak >= rule.persistence:
        severity = SEVERITIES[level - 1]
        opened = EventState(open=True, severity=severity, opened_at=at, last_active_at=at, streak=0)
        return opened, Decision(severity, escalation=False)
    return replace(event, streak=streak), None
