"""Human actions and the escalation sweep: timeline with actor and time, outbox rows for the targets
that were told, escalation steps that stop on ack, reminders, snooze and wake."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from alerting.actions import ActionInputError, IncidentActions, IncidentNotFound
from alerting.escalation import EscalationSweep
from alerting.lifecycle import TransitionError
from alerting.notify import Notifier, NotifyConfig
from alerting.notify_policy import RouteView
from storage.incidents import Incident, IncidentEvent
from storage.notifications import Notification, NotificationRoute, WebhookSubscription
from tests.alerting.delivery_kit import add_brand, add_incident, simple_context

M = timedelta(minutes=1)
DEFAULTS = (RouteView("slack", "C0DEFAULT"),)


def _notifier() -> Notifier:
    return Notifier(simple_context, NotifyConfig("http://noroshi.test", DEFAULTS))


def _route(session, now, channel, target, delay=0, reminder=None, min_severity="attention", **kw):  # type: ignore[no-untyped-def]
    session.add(
        NotificationRoute(
            channel=channel,
            target=target,
            delay_minutes=delay,
            reminder_minutes=reminder,
            min_severity=min_severity,
            created_at=now,
            **kw,
        )
    )


@pytest.fixture
def steps(factory, now):  # type: ignore[no-untyped-def]
    """Slack channel at once (reminded hourly), the on-call person after 15 min, crisis e-mail after 30."""
    with factory() as session, session.begin():
        _route(session, now, "slack", "C0INCIDENTS", reminder=60)
        _route(session, now, "slack", "U0ONCALL", delay=15)
        _route(session, now, "email", "crisis@example.jp", delay=30, min_severity="warning")
        session.add(
            WebhookSubscription(
                url="http://hook.test", secret="s", events=["triggered", "resolved"], created_at=now
            )
        )
        brand = add_brand(session, now)
        return add_incident(session, brand.id, now, severity="warning").id


def _rows(factory, incident_id: int) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with factory() as session:
        rows = session.scalars(
            select(Notification).where(Notification.incident_id == incident_id).order_by(Notification.id)
        )
        return [(r.event, r.channel, r.target) for r in rows]


def _plan(factory, incident_id: int, at: datetime) -> list[str]:  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        return _notifier().plan(session, session.get(Incident, incident_id), at)


def test_escalation_steps_stop_on_ack_and_reminders_follow(factory, now, steps) -> None:
    actions = IncidentActions(_notifier())
    sweep = EscalationSweep(factory, actions)
    assert len(_plan(factory, steps, now)) == 2
    assert _rows(factory, steps) == [("triggered", "slack", "C0INCIDENTS"), ("triggered", "webhook", "1")]
    assert sweep.run(now + 14 * M).enqueued == []
    assert len(sweep.run(now + 15 * M).enqueued) == 1
    assert _rows(factory, steps)[-1] == ("escalated", "slack", "U0ONCALL")
    with factory() as session, session.begin():
        result = actions.acknowledge(session, steps, "slack:U0ONCALL", now + 20 * M, note="on it")
        assert len(result.notifications) == 2  # the channel and the person; the webhook wants no acks
    assert _rows(factory, steps)[-2:] == [
        ("acknowledged", "slack", "C0INCIDENTS"),
        ("acknowledged", "slack", "U0ONCALL"),
    ]
    assert sweep.run(now + 45 * M).enqueued == []  # no crisis e-mail: acknowledged in time
    assert sweep.run(now + 79 * M).enqueued == []
    assert len(sweep.run(now + 80 * M).enqueued) == 1  # an hour after the ack
    assert sweep.run(now + 81 * M).enqueued == []
    assert len(sweep.run(now + 140 * M).enqueued) == 1
    assert [r for r in _rows(factory, steps) if r[0] == "reminder"] == [
        ("reminder", "slack", "C0INCIDENTS")
    ] * 2
    with factory() as session, session.begin():
        actions.resolve(session, steps, "web:aiko", now + 150 * M)
    resolved = sorted(r for r in _rows(factory, steps) if r[0] == "resolved")
    assert resolved == [
        ("resolved", "slack", "C0INCIDENTS"),
        ("resolved", "slack", "U0ONCALL"),
        ("resolved", "webhook", "1"),
    ]
    assert _plan(factory, steps, now + 151 * M) == []  # the tick's resolve path uses the same keys
    with factory() as session:
        incident = session.get(Incident, steps)
        assert (incident.acknowledged_by, incident.acknowledged_at) == ("slack:U0ONCALL", now + 20 * M)
        assert (incident.resolved_by, incident.resolved_at, incident.status) == (
            "web:aiko",
            now + 150 * M,
            "resolved",
        )
        events = session.execute(
            select(IncidentEvent.event, IncidentEvent.actor, IncidentEvent.at, IncidentEvent.note)
            .where(IncidentEvent.incident_id == steps)
            .order_by(IncidentEvent.id)
        ).all()
        assert events == [
            ("acknowledge", "slack:U0ONCALL", now + 20 * M, "on it"),
            ("resolve", "web:aiko", now + 150 * M, None),
        ]


def test_unacknowledged_incident_reaches_the_crisis_email(factory, now, steps) -> None:
    sweep = EscalationSweep(factory, IncidentActions(_notifier()))
    _plan(factory, steps, now)
    sweep.run(now + 15 * M)
    sweep.run(now + 30 * M)
    assert _rows(factory, steps)[-1] == ("escalated", "email", "crisis@example.jp")
    sweep.run(now + 31 * M)
    assert len(_rows(factory, steps)) == 4  # nothing twice


def test_a_forbidden_action_changes_nothing(factory, now, steps) -> None:
    actions = IncidentActions(_notifier())
    _plan(factory, steps, now)
    with factory() as session, session.begin():
        actions.acknowledge(session, steps, "a", now + M)
    before = _rows(factory, steps)
    refused = pytest.raises(TransitionError, match="cannot acknowledge an incident that is acknowledged")
    with refused, factory() as session, session.begin():
        actions.acknowledge(session, steps, "b", now + 2 * M)
    with factory() as session, session.begin():
        actions.resolve(session, steps, "a", now + 3 * M)
    for act in (actions.acknowledge, actions.resolve):
        with pytest.raises(TransitionError), factory() as session, session.begin():
            act(session, steps, "b", now + 4 * M)
    with factory() as session:
        events = session.scalars(select(IncidentEvent.actor).where(IncidentEvent.incident_id == steps)).all()
        assert events == ["a", "a"]
        assert session.get(Incident, steps).acknowledged_by == "a"
    assert len(_rows(factory, steps)) == len(before) + 2


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda a, s, i, now: a.snooze(s, i, "a", now - M, now), "until"),
        (lambda a, s, i, now: a.snooze(s, i, "a", now.replace(tzinfo=None) + M, now), "until"),
        (lambda a, s, i, now: a.comment(s, i, "a", "   ", now), "text"),
        (lambda a, s, i, now: a.acknowledge(s, i, " ", now), "actor"),
        (lambda a, s, i, now: a.resolve(s, i, "a", now, note="x" * 5000), "note"),
    ],
)
def test_bad_input_names_the_field(factory, now, steps, call, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ActionInputError) as error, factory() as session, session.begin():
        call(IncidentActions(_notifier()), session, steps, now)
    assert error.value.field == field


def test_unknown_incident(factory, now) -> None:
    with pytest.raises(IncidentNotFound, match="incident 999"), factory() as session, session.begin():
        IncidentActions(_notifier()).acknowledge(session, 999, "a", now)


def test_snooze_is_silent_until_it_wakes_then_late_steps_fire(factory, now, steps) -> None:
    actions = IncidentActions(_notifier())
    sweep = EscalationSweep(factory, actions)
    _plan(factory, steps, now)
    with factory() as session, session.begin():
        result = actions.snooze(session, steps, "slack:U1", now + 60 * M, now + 2 * M, note="会議中")
        assert [k.split(":")[4] for k in result.notifications] == ["snoozed"]  # the channel only
    assert sweep.run(now + 59 * M).enqueued == []  # the person and e-mail steps are held back
    report = sweep.run(now + 60 * M)
    assert report.woken == [steps]
    tail = _rows(factory, steps)[-4:]
    assert tail == [
        ("triggered", "slack", "C0INCIDENTS"),  # the wake, on the card…
        ("triggered", "webhook", "1"),  # …and to the subscriber of "triggered"
        ("escalated", "slack", "U0ONCALL"),
        ("escalated", "email", "crisis@example.jp"),
    ]
    with factory() as session:
        incident = session.get(Incident, steps)
        assert incident.status == "triggered" and incident.snoozed_until is None
        wake = session.scalars(select(IncidentEvent).where(IncidentEvent.event == "wake")).one()
        assert (wake.actor, wake.at) == ("noroshi", now + 60 * M)
    assert sweep.run(now + 61 * M).enqueued == []


def test_comments_reach_every_target_told(factory, now, steps) -> None:
    actions = IncidentActions(_notifier())
    _plan(factory, steps, now)
    with factory() as session, session.begin():
        actions.comment(session, steps, "slack:U2", "公式声明の草案を作成中", now + M)
        actions.comment(session, steps, "slack:U2", "法務確認済み", now + 2 * M)
    assert [r for r in _rows(factory, steps) if r[0] == "commented"] == [
        ("commented", "slack", "C0INCIDENTS")
    ] * 2


def test_default_routes_only_while_no_route_is_configured(factory, now) -> None:
    with factory() as session, session.begin():
        incident = add_incident(session, add_brand(session, now).id, now).id
    _plan(factory, incident, now)
    assert _rows(factory, incident) == [("triggered", "slack", "C0DEFAULT")]
    with factory() as session, session.begin():
        other = add_incident(session, add_brand(session, now, "other").id, now).id
        _route(session, now, "slack", "C0CONFIGURED", enabled=False)
    _plan(factory, other, now)
    assert _rows(factory, other) == []  # routes exist (disabled): the defaults stay out of it


def test_default_routes_come_from_settings() -> None:
    from noroshi.services import default_routes
    from noroshi.settings import Settings

    settings = Settings(slack_channel="C0PR", email_to="crisis@example.jp", email_delay_minutes=30)
    slack, email = default_routes(settings)
    assert (slack.channel, slack.target, slack.delay_minutes, slack.reminder_minutes) == (
        "slack",
        "C0PR",
        0,
        60,
    )
    assert (email.channel, email.target, email.delay_minutes, email.min_severity) == (
        "email",
        "crisis@example.jp",
        30,
        "warning",
    )
    assert default_routes(Settings(slack_channel=None, email_to=None)) == ()
