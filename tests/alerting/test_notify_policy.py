"""The notify decision, row by row: (previous, incident, route, now) → reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from alerting.channels.base import EVENTS
from alerting.notify_policy import (
    DECISION_TABLE,
    PAGING_EVENTS,
    REASON_EVENTS,
    IncidentView,
    PreviousNotification,
    Reason,
    RouteView,
    decide,
    explain,
)

T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
M = timedelta(minutes=1)

SLACK = RouteView("slack", "C0INCIDENTS", delay_minutes=0, reminder_minutes=60)
PERSON = RouteView("slack", "U0ONCALL", delay_minutes=15)
CRISIS = RouteView("email", "crisis@example.jp", delay_minutes=30, min_severity="warning")

OPEN = IncidentView(status="triggered", severity="warning", opened_at=T0)
ACKED = replace(OPEN, status="acknowledged", acknowledged_at=T0 + 5 * M)
SNOOZED = replace(OPEN, status="snoozed", snoozed_until=T0 + 60 * M)
RESOLVED = replace(OPEN, status="resolved")
WAVE = replace(OPEN, last_wave_at=T0 + 180 * M)  # flared again three hours after it opened


def told(event: str = "triggered", at: datetime = T0, severity: str = "warning") -> PreviousNotification:
    return PreviousNotification(event=event, at=at, severity=severity)


# (case, previous, incident, route, now, expected)
CASES = [
    ("resolved, never paged", None, RESOLVED, SLACK, T0 + M, Reason.NONE),
    ("resolved, never paged (muted)", None, replace(RESOLVED, muted=True), SLACK, T0, Reason.NONE),
    ("resolve already announced", told("resolved"), RESOLVED, SLACK, T0 + M, Reason.NONE),
    ("resolve after a page", told(), RESOLVED, SLACK, T0 + M, Reason.RESOLVED),
    ("resolve after a reminder", told("reminder"), RESOLVED, PERSON, T0 + M, Reason.RESOLVED),
    (
        "resolve of a muted incident that was paged",
        told(),
        replace(RESOLVED, muted=True),
        SLACK,
        T0,
        Reason.RESOLVED,
    ),
    ("muted", None, replace(OPEN, muted=True), SLACK, T0, Reason.NONE),
    ("muted, grew", told(), replace(OPEN, muted=True, severity="flame"), SLACK, T0, Reason.NONE),
    ("snoozed", None, SNOOZED, SLACK, T0 + M, Reason.NONE),
    (
        "snoozed and grew (the tick changes the status, so this is still snoozed)",
        told(),
        replace(SNOOZED, severity="flame"),
        SLACK,
        T0 + M,
        Reason.NONE,
    ),
    ("snooze over but not yet woken", None, SNOOZED, SLACK, T0 + 61 * M, Reason.FIRST),
    ("below route severity", None, replace(OPEN, severity="attention"), CRISIS, T0 + 90 * M, Reason.NONE),
    ("first step at once", None, OPEN, SLACK, T0, Reason.FIRST),
    (
        "first step at once, even if acknowledged (e.g. unmuted later)",
        None,
        ACKED,
        SLACK,
        T0 + 9 * M,
        Reason.FIRST,
    ),
    ("later step, acknowledged: stop", None, ACKED, PERSON, T0 + 20 * M, Reason.NONE),
    ("later step, delay not over", None, OPEN, PERSON, T0 + 14 * M, Reason.NONE),
    ("later step, delay over exactly", None, OPEN, PERSON, T0 + 15 * M, Reason.ESCALATED),
    ("e-mail step after 30 min", None, OPEN, CRISIS, T0 + 31 * M, Reason.ESCALATED),
    (
        "grew since last page",
        told(severity="warning"),
        replace(OPEN, severity="flame"),
        SLACK,
        T0 + M,
        Reason.ESCALATED,
    ),
    (
        "grew, acknowledged",
        told(severity="warning"),
        replace(ACKED, severity="flame"),
        PERSON,
        T0 + M,
        Reason.ESCALATED,
    ),
    ("same severity, triggered: no repeat", told(), OPEN, SLACK, T0 + 5 * 60 * M, Reason.NONE),
    ("acknowledged, reminder due (counted from the ack)", told(), ACKED, SLACK, T0 + 65 * M, Reason.REMINDER),
    (
        "acknowledged, reminder not yet due (page at T0, ack at +5)",
        told(),
        ACKED,
        SLACK,
        T0 + 61 * M,
        Reason.NONE,
    ),
    (
        "acknowledged, last reminder recent",
        told("reminder", T0 + 70 * M),
        ACKED,
        SLACK,
        T0 + 100 * M,
        Reason.NONE,
    ),
    (
        "acknowledged, next reminder",
        told("reminder", T0 + 70 * M),
        ACKED,
        SLACK,
        T0 + 130 * M,
        Reason.REMINDER,
    ),
    ("acknowledged, route without reminders", told(), ACKED, PERSON, T0 + 600 * M, Reason.NONE),
    # flared again (再燃): a wave recorded after the last page here
    ("flared again after the page", told(), WAVE, SLACK, T0 + 181 * M, Reason.FLARED_AGAIN),
    (
        "flared again, acknowledged",
        told(),
        replace(ACKED, last_wave_at=T0 + 180 * M),
        PERSON,
        T0 + 181 * M,
        Reason.FLARED_AGAIN,
    ),
    (
        "flared again after a reminder",
        told("reminder", T0 + 120 * M),
        replace(ACKED, last_wave_at=T0 + 180 * M),
        SLACK,
        T0 + 181 * M,
        Reason.FLARED_AGAIN,
    ),
    ("wave already paged here", told("flared_again", T0 + 180 * M), WAVE, SLACK, T0 + 200 * M, Reason.NONE),
    (
        "wave recorded with the first page (same moment)",
        told(at=T0 + 180 * M),
        WAVE,
        SLACK,
        T0 + 181 * M,
        Reason.NONE,
    ),
    (
        "first wave only (recorded at open)",
        told(),
        replace(OPEN, last_wave_at=T0),
        SLACK,
        T0 + M,
        Reason.NONE,
    ),
    ("flared again, never told here: the first page", None, WAVE, SLACK, T0 + 181 * M, Reason.FIRST),
    ("flared again, muted", told(), replace(WAVE, muted=True), SLACK, T0 + 181 * M, Reason.NONE),
    (
        "flared again while snoozed: a wave does not end a snooze",
        told(),
        replace(WAVE, status="snoozed", snoozed_until=T0 + 240 * M),
        SLACK,
        T0 + 181 * M,
        Reason.NONE,
    ),
    (
        "flared again, below route severity",
        told(),
        WAVE,
        replace(CRISIS, min_severity="flame"),
        T0 + 181 * M,
        Reason.NONE,
    ),
    (
        "flared again and grew: one escalation page",
        told(severity="warning"),
        replace(WAVE, severity="flame"),
        SLACK,
        T0 + 181 * M,
        Reason.ESCALATED,
    ),
]


@pytest.mark.parametrize(
    ("case", "previous", "incident", "route", "now", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_decision(case, previous, incident, route, now, expected) -> None:  # type: ignore[no-untyped-def]
    assert decide(previous, incident, route, now) is expected


def test_every_row_of_the_table_is_exercised() -> None:
    used = {explain(p, i, r, n)[1] for _, p, i, r, n, _ in CASES}
    assert used == {why for why, _, _ in DECISION_TABLE}


def test_a_target_outside_the_route_filter_is_not_covered() -> None:
    route = RouteView("slack", "C1", brand_id=7, kinds=frozenset({"negativity"}))
    assert route.covers(7, "negativity")
    assert not route.covers(7, "volume")
    assert not route.covers(8, "negativity")
    assert RouteView("slack", "C2").covers(8, "volume")
    hook = RouteView("webhook", "3", events=frozenset({"triggered", "resolved"}))
    assert hook.wants("resolved") and not hook.wants("commented")
    assert not hook.wants("flared_again")
    assert RouteView("webhook", "4", events=frozenset({"flared_again"})).wants("flared_again")


def test_every_paging_reason_has_a_channel_event() -> None:
    assert REASON_EVENTS[Reason.FLARED_AGAIN] == "flared_again" and "flared_again" in PAGING_EVENTS
    assert set(REASON_EVENTS.values()) <= set(EVENTS)
