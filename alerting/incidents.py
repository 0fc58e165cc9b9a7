"""Incidents from detector signals: open one per event (dedup key brand × kind), update, auto-resolve."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.lifecycle import OPEN_STATUSES, Action, Status, next_status
from alerting.severity import rank
from detectors import Signal
from storage.incidents import Incident, IncidentEvent

SYSTEM_ACTOR = "noroshi"


def dedup_key(brand_id: int, kind: str) -> str:
    return f"brand:{brand_id}:{kind}"


def open_incident_for(session: Session, brand_id: int, kind: str) -> Incident | None:
    return session.scalars(
        select(Incident)
        .where(Incident.dedup_key == dedup_key(brand_id, kind), Incident.status.in_(list(OPEN_STATUSES)))
        .order_by(Incident.id.desc())
        .limit(1)
    ).first()


def record_event(
    session: Session,
    incident: Incident,
    event: str,
    at: datetime,
    actor: str = SYSTEM_ACTOR,
    detail: dict[str, Any] | None = None,
    note: str | None = None,
) -> IncidentEvent:
    entry = IncidentEvent(
        incident_id=incident.id, at=at, event=event, actor=actor, detail=detail or {}, note=note
    )
    session.add(entry)
    return entry


def _signal_detail(signal: Signal) -> dict[str, Any]:
    detail = asdict(signal)
    detail["at"] = signal.at.isoformat()
    return detail


def apply_signal(session: Session, brand_id: int, signal: Signal, now: datetime) -> tuple[Incident, str]:
    """Open a new incident for the signal, or fold it into the open one with the same dedup key.

    Returns the incident and what happened: "opened", "escalated" (a higher severity, or a new wave of
    the same event: see `_flared_again`) or "updated".
    """
    incident = open_incident_for(session, brand_id, signal.kind)
    if incident is None:
        incident = Incident(
            brand_id=brand_id,
            kind=signal.kind,
            dedup_key=dedup_key(brand_id, signal.kind),
            status=Status.TRIGGERED.value,
            severity=signal.severity,
            started_at=signal.at,
            last_signal_at=signal.at,
            score=signal.score,
            peak_score=signal.score,
            observed=signal.observed,
            expected=signal.expected,
            upper=signal.upper,
            negative_share=signal.negative_share,
            baseline_share=signal.baseline_share,
            test=signal.test,
            evidence={"signals": [_signal_detail(signal)]},
            created_at=now,
            updated_at=now,
            waves=1,
            last_wave_at=now,
        )
        session.add(incident)
        session.flush()
        record_event(session, incident, "opened", now, detail=_signal_detail(signal))
        return incident, "opened"

    escalated = rank(signal.severity) > rank(incident.severity)
    incident.score = signal.score
    incident.peak_score = max(incident.peak_score, signal.score)
    incident.observed, incident.expected, incident.upper = signal.observed, signal.expected, signal.upper
    incident.negative_share, incident.baseline_share = signal.negative_share, signal.baseline_share
    incident.last_signal_at = max(incident.last_signal_at, signal.at)
    incident.evidence = {"signals": [*incident.evidence.get("signals", [])[-19:], _signal_detail(signal)]}
    incident.updated_at = now
    if escalated:
        incident.status = next_status(incident.status, Action.ESCALATE).value
        if incident.status != Status.SNOOZED.value:  # growth ends a snooze
            incident.snoozed_until = None
        record_event(
            session,
            incident,
            "escalated",
            now,
            detail={"from": incident.severity, "to": signal.severity, **_signal_detail(signal)},
        )
        incident.severity = signal.severity
        return incident, "escalated"
    if signal.reflare:
        _flared_again(session, incident, signal, now)
        return incident, "escalated"
    record_event(session, incident, "updated", now, detail=_signal_detail(signal))
    return incident, "updated"


def _flared_again(session: Session, incident: Incident, signal: Signal, now: datetime) -> None:
    """The event's activity had stopped and it fires again at the severity already reached (再燃).

    Counted as a wave and stamped with the wall clock, which the notify decision compares with the
    last page (`alerting.notify_policy`). Unlike growth it changes neither the status nor a snooze:
    an acknowledgement or a snooze was given for this event, and the same severity is not new enough
    to override it (see the decision table)."""
    incident.waves = (incident.waves or 1) + 1
    incident.last_wave_at = now
    record_event(
        session, incident, "flared_again", now, detail={"wave": incident.waves, **_signal_detail(signal)}
    )


def mark_active(session: Session, brand_id: int, kind: str, bucket_at: datetime) -> None:
    """The detector still sees the anomaly at this bucket: push back the quiet-period clock."""
    incident = open_incident_for(session, brand_id, kind)
    if incident is not None and bucket_at > incident.last_signal_at:
        incident.last_signal_at = bucket_at


def resolve_incident(session: Session, incident: Incident, now: datetime, note: str) -> Incident:
    transition(session, incident, Action.RESOLVE, now, actor=SYSTEM_ACTOR, note=note)
    return incident


def quiet_incidents(session: Session, brand_id: int, bucket_at: datetime, quiet: timedelta) -> list[Incident]:
    """Open incidents of the brand whose last anomalous bucket is at least `quiet` before `bucket_at`."""
    incidents = session.scalars(
        select(Incident).where(Incident.brand_id == brand_id, Incident.status.in_(list(OPEN_STATUSES)))
    ).all()
    return [i for i in incidents if bucket_at - i.last_signal_at >= quiet]


def _stamp(incident: Incident, action: Action, now: datetime, actor: str) -> None:
    """The fields an action sets besides the status (who acknowledged / resolved, until when snoozed)."""
    if action is Action.ACKNOWLEDGE:
        incident.acknowledged_at, incident.acknowledged_by = now, actor
    if action is Action.RESOLVE:
        incident.resolved_at, incident.resolved_by = now, actor
    if incident.status != Status.SNOOZED.value:
        incident.snoozed_until = None


def transition(
    session: Session,
    incident: Incident,
    action: Action,
    now: datetime,
    actor: str,
    note: str | None = None,
    detail: dict[str, Any] | None = None,
) -> IncidentEvent:
    """Apply a lifecycle action (raises TransitionError if the state does not allow it); returns the
    timeline event written for it. A snooze's end time is set by the caller (alerting.actions)."""
    incident.status = next_status(incident.status, action).value
    incident.updated_at = now
    _stamp(incident, action, now, actor)
    return record_event(session, incident, action.value, now, actor=actor, detail=detail, note=note)
