"""Detector state carried between ticks: the brand's first bucket and, per kind, the open event.

Opaque to callers; stored as JSON. Everything the alert policy needs to be idempotent and to give one
signal per event lives here, so a restarted worker continues exactly where the last one stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

STATE_VERSION = 1


def _dt(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"detector state holds a naive datetime: {value!r}")
    return parsed


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class EventState:
    """One kind's event: open while the series stays anomalous (plus a quiet period)."""

    open: bool = False
    severity: str | None = None  # highest severity signalled for the open event
    opened_at: datetime | None = None
    last_active_at: datetime | None = None  # last bucket at which the series was anomalous
    streak: int = 0  # consecutive buckets meeting the alert condition while no event is open
    rearmed: bool = False  # activity resumed after a rest: the next firing bucket is a new wave

    def to_json(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "severity": self.severity,
            "opened_at": _iso(self.opened_at),
            "last_active_at": _iso(self.last_active_at),
            "streak": self.streak,
            "rearmed": self.rearmed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> EventState:
        if not data:
            return cls()
        return cls(
            open=bool(data.get("open", False)),
            severity=data.get("severity"),
            opened_at=_dt(data.get("opened_at")),
            last_active_at=_dt(data.get("last_active_at")),
            streak=int(data.get("streak", 0)),
            rearmed=bool(data.get("rearmed", False)),
        )


@dataclass(frozen=True)
class DetectorState:
    """Opaque to callers; JSON round-trip with `to_json` / `from_json`."""

    first_seen: datetime | None = None  # start of the brand's first bucket ever seen
    last_at: datetime | None = None  # last bucket evaluated (a repeated tick changes nothing)
    events: dict[str, EventState] = field(default_factory=dict)

    def event(self, kind: str) -> EventState:
        return self.events.get(kind, EventState())

    def with_event(self, kind: str, event: EventState) -> DetectorState:
        return replace(self, events={**self.events, kind: event})

    def is_open(self, kind: str) -> bool:
        """Whether an event of this kind is in progress (its quiet period has not run out)."""
        return self.event(kind).open

    def end_event(self, kind: str) -> DetectorState:
        """Close the kind's event (its incident was resolved), so the next surge opens a new one."""
        return self.with_event(kind, EventState())

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "first_seen": _iso(self.first_seen),
            "last_at": _iso(self.last_at),
            "events": {kind: ev.to_json() for kind, ev in sorted(self.events.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DetectorState:
        """None (or an empty dict) gives a fresh state."""
        if not data:
            return cls()
        version = data.get("version", STATE_VERSION)
        if version != STATE_VERSION:
            raise ValueError(f"unsupported detector state version {version!r}")
        events = {str(k): EventState.from_json(v) for k, v in (data.get("events") or {}).items()}
        return cls(first_seen=_dt(data.get("first_seen")), last_at=_dt(data.get("last_at")), events=events)
