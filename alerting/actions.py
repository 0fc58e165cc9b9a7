"""What people (and the clock) do to an incident: acknowledge, resolve, snooze, wake, comment.

Each action, in the caller's transaction: locks the incident row, applies the lifecycle transition table
(`TransitionError` if the state does not allow it), writes a timeline event with the actor and time, and
enqueues one notification per target that was already told about the incident (the Slack card is edited,
a thread reply added, an e-mail or webhook sent). Callers (Slack buttons, the API, the escalation job)
wrap a call in `storage.engine.transaction(factory)`; nothing is sent until it commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from alerting.incidents import SYSTEM_ACTOR, record_event, transition
from alerting.lifecycle import Action, Status, TransitionError
from alerting.notify import Notifier
from storage.incidents import Incident, IncidentEvent

__all__ = [
    "ACTION_EVENTS",
    "ActionInputError",
    "ActionResult",
    "IncidentActions",
    "IncidentNotFound",
    "TransitionError",
]

# The notification event each action is announced with (alerting.channels.base.EVENTS).
ACTION_EVENTS: dict[Action | str, str] = {
    Action.ACKNOWLEDGE: "acknowledged",
    Action.SNOOZE: "snoozed",
    Action.WAKE: "triggered",  # the snooze ran out: it needs attention again
    Action.RESOLVE: "resolved",
    "comment": "commented",
}
MAX_COMMENT = 4000


class IncidentNotFound(LookupError):
    def __init__(self, incident_id: int) -> None:
        super().__init__(f"incident {incident_id} does not exist")
        self.incident_id = incident_id


class ActionInputError(ValueError):
    """Bad input for an action; `field` names the offending field (for a problem+json 422)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True, slots=True)
class ActionResult:
    incident: Incident
    event: IncidentEvent  # the timeline entry written
    notifications: list[str] = field(default_factory=list)  # idempotency keys enqueued


def _actor(actor: str) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise ActionInputError("actor", "who did it is required")
    if len(actor) > 200:
        raise ActionInputError("actor", "at most 200 characters")
    return actor


def _note(note: str | None) -> str | None:
    if note is not None and len(note) > MAX_COMMENT:
        raise ActionInputError("note", f"at most {MAX_COMMENT} characters")
    return note


class IncidentActions:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    def acknowledge(
        self, session: Session, incident_id: int, actor: str, now: datetime, note: str | None = None
    ) -> ActionResult:
        return self._act(session, incident_id, Action.ACKNOWLEDGE, _actor(actor), now, _note(note))

    def resolve(
        self, session: Session, incident_id: int, actor: str, now: datetime, note: str | None = None
    ) -> ActionResult:
        return self._act(session, incident_id, Action.RESOLVE, _actor(actor), now, _note(note))

    def snooze(
        self,
        session: Session,
        incident_id: int,
        actor: str,
        until: datetime,
        now: datetime,
        note: str | None = None,
    ) -> ActionResult:
        if until.tzinfo is None:
            raise ActionInputError("until", "must carry a timezone")
        if until <= now:
            raise ActionInputError("until", "must be in the future")
        actor, note = _actor(actor), _note(note)
        incident = self._lock(session, incident_id)
        entry = transition(
            session, incident, Action.SNOOZE, now, actor=actor, note=note, detail={"until": until.isoformat()}
        )
        incident.snoozed_until = until
        return self._announce(session, incident, entry, ACTION_EVENTS[Action.SNOOZE], now)

    def wake(self, session: Session, incident_id: int, now: datetime) -> ActionResult:
        """End a snooze whose time has come (called by the escalation job)."""
        incident = self._lock(session, incident_id)
        if incident.status == Status.SNOOZED and incident.snoozed_until and incident.snoozed_until > now:
            raise TransitionError(
                f"incident {incident_id} is snoozed until {incident.snoozed_until.isoformat()}"
            )
        entry = transition(session, incident, Action.WAKE, now, actor=SYSTEM_ACTOR, note="snooze ended")
        result = self._announce(session, incident, entry, ACTION_EVENTS[Action.WAKE], now)
        # Escalation steps that came due while it slept fire now (still unacknowledged).
        result.notifications.extend(self.notifier.plan(session, incident, now))
        return result

    def comment(
        self, session: Session, incident_id: int, actor: str, text: str, now: datetime
    ) -> ActionResult:
        text = (text or "").strip()
        if not text:
            raise ActionInputError("text", "a comment needs text")
        actor, text = _actor(actor), _note(text) or ""
        incident = self._lock(session, incident_id)
        entry = record_event(session, incident, "comment", now, actor=actor, note=text)
        incident.updated_at = now
        return self._announce(session, incident, entry, ACTION_EVENTS["comment"], now)

    # -- helpers -------------------------------------------------------------------------------------

    def _act(
        self, session: Session, incident_id: int, action: Action, actor: str, now: datetime, note: str | None
    ) -> ActionResult:
        incident = self._lock(session, incident_id)
        entry = transition(session, incident, action, now, actor=actor, note=note)
        return self._announce(session, incident, entry, ACTION_EVENTS[action], now)

    @staticmethod
    def _lock(session: Session, incident_id: int) -> Incident:
        """Row-lock the incident (PostgreSQL) so two clicks on two buttons apply one after the other."""
        incident = session.get(Incident, incident_id, with_for_update=True, populate_existing=True)
        if incident is None:
            raise IncidentNotFound(incident_id)
        return incident

    def _announce(
        self, session: Session, incident: Incident, entry: IncidentEvent, event: str, now: datetime
    ) -> ActionResult:
        session.flush()  # the timeline entry's id makes each action's notification key unique
        # One resolve per incident, under the same key the notify policy would use for it.
        sequence: str | int = 1 if event == "resolved" else f"event-{entry.id}"
        return ActionResult(incident, entry, self.notifier.announce(session, incident, event, sequence, now))
