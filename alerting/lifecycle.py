"""The incident state machine as one table: (state, action) → next state."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    SNOOZE = "snooze"
    WAKE = "wake"  # a snooze ran out
    RESOLVE = "resolve"
    ESCALATE = "escalate"  # the detector saw it grow; an acknowledged incident needs eyes again


TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.TRIGGERED, Action.ACKNOWLEDGE): Status.ACKNOWLEDGED,
    (Status.TRIGGERED, Action.SNOOZE): Status.SNOOZED,
    (Status.TRIGGERED, Action.RESOLVE): Status.RESOLVED,
    (Status.TRIGGERED, Action.ESCALATE): Status.TRIGGERED,
    (Status.ACKNOWLEDGED, Action.SNOOZE): Status.SNOOZED,
    (Status.ACKNOWLEDGED, Action.RESOLVE): Status.RESOLVED,
    (Status.ACKNOWLEDGED, Action.ESCALATE): Status.ACKNOWLEDGED,
    (Status.SNOOZED, Action.WAKE): Status.TRIGGERED,
    (Status.SNOOZED, Action.ACKNOWLEDGE): Status.ACKNOWLEDGED,
    (Status.SNOOZED, Action.RESOLVE): Status.RESOLVED,
    (Status.SNOOZED, Action.ESCALATE): Status.TRIGGERED,
}

OPEN_STATUSES = frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED, Status.SNOOZED})


class TransitionError(ValueError):
    """An action that the incident's current state does not allow (e.g. acknowledging a resolved one)."""


def next_status(current: str, action: Action) -> Status:
    try:
        return TRANSITIONS[(Status(current), action)]
    except (KeyError, ValueError):
        raise TransitionError(f"cannot {action.value} an incident that is {current}") from None
