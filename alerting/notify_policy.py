"""Whether to notify one route target about one incident now: one pure decision table.

In the spirit of Alertmanager's dedup stage: given what this target last heard (the previous *paging*
notification: first / escalated / flared again / reminder / resolved), the incident as it is now, the
route's intervals and the clock, answer first | escalated | flared_again | reminder | resolved | none.
Human actions (acknowledged, snoozed, commented) are announced by `alerting.actions`, not decided here.

The rows of `DECISION_TABLE` are read top to bottom; the first whose condition holds wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from alerting.lifecycle import Status
from alerting.severity import rank


class Reason(StrEnum):
    FIRST = "first"
    ESCALATED = "escalated"
    FLARED_AGAIN = "flared_again"
    REMINDER = "reminder"
    RESOLVED = "resolved"
    NONE = "none"


# The notification event (channels' vocabulary, see alerting.channels.base.EVENTS) for each reason.
REASON_EVENTS: dict[Reason, str] = {
    Reason.FIRST: "triggered",
    Reason.ESCALATED: "escalated",
    Reason.FLARED_AGAIN: "flared_again",
    Reason.REMINDER: "reminder",
    Reason.RESOLVED: "resolved",
}
PAGING_EVENTS = frozenset(REASON_EVENTS.values())


@dataclass(frozen=True, slots=True)
class PreviousNotification:
    """The last paging notification this route target got for the incident."""

    event: str  # triggered | escalated | flared_again | reminder | resolved
    at: datetime  # when it was written to the outbox
    severity: str  # the incident's severity at that time


@dataclass(frozen=True, slots=True)
class IncidentView:
    status: str
    severity: str
    opened_at: datetime  # wall-clock time the incident was opened (escalation delays count from here)
    acknowledged_at: datetime | None = None
    snoozed_until: datetime | None = None
    muted: bool = False  # silenced, inside a campaign window, or inhibited
    # When the latest wave of the event was recorded (wall clock, like `opened_at`); None = unknown
    last_wave_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RouteView:
    """One escalation step: a channel target, when it joins, and how often it is reminded."""

    channel: str
    target: str
    delay_minutes: int = 0
    reminder_minutes: int | None = None
    min_severity: str = "attention"
    brand_id: int | None = None  # None = every brand
    kinds: frozenset[str] = frozenset()  # empty = every kind
    events: frozenset[str] = frozenset()  # webhooks: the events subscribed to (empty = all)

    def covers(self, brand_id: int, kind: str) -> bool:
        return (self.brand_id is None or self.brand_id == brand_id) and (not self.kinds or kind in self.kinds)

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


@dataclass(frozen=True, slots=True)
class _Facts:
    previous: PreviousNotification | None
    incident: IncidentView
    route: RouteView
    now: datetime

    @property
    def resolved(self) -> bool:
        return self.incident.status == Status.RESOLVED

    @property
    def told(self) -> bool:
        return self.previous is not None

    @property
    def announced_resolve(self) -> bool:
        return self.previous is not None and self.previous.event == "resolved"

    @property
    def snoozed(self) -> bool:
        until = self.incident.snoozed_until
        return self.incident.status == Status.SNOOZED and (until is None or until > self.now)

    @property
    def below_route_severity(self) -> bool:
        return rank(self.incident.severity) < rank(self.route.min_severity)

    @property
    def acknowledged(self) -> bool:
        return self.incident.status == Status.ACKNOWLEDGED

    @property
    def step_due(self) -> bool:
        delay = timedelta(minutes=self.route.delay_minutes)
        return self.now - self.incident.opened_at >= delay

    @property
    def grew(self) -> bool:
        return self.previous is not None and rank(self.incident.severity) > rank(self.previous.severity)

    @property
    def flared_again(self) -> bool:
        """A new wave was recorded after the last page here (a page at the same moment covered it)."""
        wave = self.incident.last_wave_at
        return self.previous is not None and wave is not None and wave > self.previous.at

    @property
    def reminder_due(self) -> bool:
        if self.previous is None or self.route.reminder_minutes is None:
            return False
        # Count from the later of the last page and the ack: an ack is itself a sign of attention.
        last = max(self.previous.at, self.incident.acknowledged_at or self.previous.at)
        return self.now - last >= timedelta(minutes=self.route.reminder_minutes)


Rule = Callable[[_Facts], bool]

# (why, condition, reason) — first match wins.
DECISION_TABLE: tuple[tuple[str, Rule, Reason], ...] = (
    ("resolved, never paged here: nothing to take back", lambda f: f.resolved and not f.told, Reason.NONE),
    ("resolve already announced here", lambda f: f.resolved and f.announced_resolve, Reason.NONE),
    ("resolved after a page: always announced where it was paged", lambda f: f.resolved, Reason.RESOLVED),
    ("muted (silence, campaign, inhibition)", lambda f: f.incident.muted, Reason.NONE),
    ("snoozed until later", lambda f: f.snoozed, Reason.NONE),
    ("below this route's severity", lambda f: f.below_route_severity, Reason.NONE),
    ("first step: at once", lambda f: not f.told and f.route.delay_minutes <= 0, Reason.FIRST),
    (
        "later step, already acknowledged: escalation stops",
        lambda f: not f.told and f.acknowledged,
        Reason.NONE,
    ),
    ("later step, delay not yet over", lambda f: not f.told and not f.step_due, Reason.NONE),
    ("later step, still unacknowledged after the delay", lambda f: not f.told, Reason.ESCALATED),
    ("severity grew since the last page here", lambda f: f.grew, Reason.ESCALATED),
    # After growth (a higher severity is the bigger news and its page shows the same state) and before
    # the reminder (a new wave is news, a reminder is not). Muted and snoozed incidents stopped above:
    # unlike growth, a wave does not end a snooze (alerting.incidents), because whoever snoozed has
    # seen this event at this severity, and a pick-up of the same story is what a snooze is for (when
    # it runs out, the wake page shows the timeline, wave included). A mute that lifts before the next
    # page lets this row tell them. An acknowledgement does not stop it: the team on it must hear of
    # the second wave.
    ("flared again since the last page here", lambda f: f.flared_again, Reason.FLARED_AGAIN),
    (
        "acknowledged, unresolved, reminder interval passed",
        lambda f: f.acknowledged and f.reminder_due,
        Reason.REMINDER,
    ),
    ("nothing new", lambda f: True, Reason.NONE),
)


def explain(
    previous: PreviousNotification | None, incident: IncidentView, route: RouteView, now: datetime
) -> tuple[Reason, str]:
    """The decision and the row that made it (for logs and tests)."""
    facts = _Facts(previous, incident, route, now)
    for why, condition, reason in DECISION_TABLE:
        if condition(facts):
            return reason, why
    raise AssertionError("the last row always matches")


def decide(
    previous: PreviousNotification | None, incident: IncidentView, route: RouteView, now: datetime
) -> Reason:
    return explain(previous, incident, route, now)[0]
