"""The transition table, pair by pair: every allowed move lands where the spec says, every other raises."""

from __future__ import annotations

import pytest

from alerting.lifecycle import TRANSITIONS, Action, Status, TransitionError, next_status

# The lifecycle as the issue describes it, written out independently of alerting.lifecycle.
# None = forbidden.
SPEC: dict[str, dict[str, str | None]] = {
    "triggered": {
        "acknowledge": "acknowledged",
        "snooze": "snoozed",
        "wake": None,
        "resolve": "resolved",
        "escalate": "triggered",
    },
    "acknowledged": {
        "acknowledge": None,
        "snooze": "snoozed",
        "wake": None,
        "resolve": "resolved",
        "escalate": "acknowledged",  # it grew, but somebody already has it
    },
    "snoozed": {
        "acknowledge": "acknowledged",
        "snooze": None,
        "wake": "triggered",
        "resolve": "resolved",
        "escalate": "triggered",  # growth ends the snooze
    },
    "resolved": {"acknowledge": None, "snooze": None, "wake": None, "resolve": None, "escalate": None},
}

PAIRS = [(s, a) for s in SPEC for a in SPEC[s]]


def test_the_spec_covers_every_state_and_action() -> None:
    assert set(SPEC) == {s.value for s in Status}
    assert all(set(row) == {a.value for a in Action} for row in SPEC.values())


@pytest.mark.parametrize(("state", "action"), PAIRS)
def test_each_pair(state: str, action: str) -> None:
    expected = SPEC[state][action]
    if expected is None:
        with pytest.raises(TransitionError, match=f"cannot {action}"):
            next_status(state, Action(action))
    else:
        assert next_status(state, Action(action)) == expected


def test_the_table_has_exactly_the_allowed_pairs() -> None:
    allowed = {(s, a) for s, a in PAIRS if SPEC[s][a] is not None}
    assert {(s.value, a.value) for s, a in TRANSITIONS} == allowed


def test_an_unknown_state_is_refused() -> None:
    with pytest.raises(TransitionError):
        next_status("exploded", Action.RESOLVE)
