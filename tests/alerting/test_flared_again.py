"""An open incident that flares again (再燃, a second wave) pages once more, end to end: the detection
tick records the wave, the notify decision pages each route target once with "flared_again", and the
real Slack (slack-sdk against the local Slack Web API server), e-mail (aiosmtpd) and webhook channels
say so. Muted or snoozed incidents stay silent; a higher severity still pages as an escalation."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerting.actions import IncidentActions
from alerting.channels.base import EVENTS
from alerting.channels.mail_message import EVENT_LINES as MAIL_LINES
from alerting.channels.mailer import EmailChannel
from alerting.channels.slack import EVENT_POLICY as SLACK_POLICY
from alerting.channels.slack import SlackChannel
from alerting.channels.slack_blocks import EVENT_LINES as SLACK_LINES
from alerting.channels.webhook import SubscriptionStore, WebhookChannel
from alerting.incidents import apply_signal, open_incident_for, resolve_incident
from alerting.notify import Notifier, NotifyConfig
from alerting.outbox import OutboxWorker
from alerting.presentation import EVENT_LABELS
from alerting.report import EVENT_NAMES as REPORT_NAMES
from alerting.summary import build_incident_context
from alerting.tick import DetectionTicker
from storage.incidents import Incident, IncidentEvent
from storage.muting import Silence
from storage.notifications import Notification, NotificationRoute, WebhookSubscription
from storage.timebuckets import bucket_start
from tests.alerting.delivery_kit import Receiver, add_brand, add_incident, receiving
from tests.alerting.test_tick import _fill
from tests.fakes.slack_api import FakeSlack
from tests.helpers import volume_signal

FIVE = timedelta(minutes=5)
TOKEN = "xoxb-test-token"
CALM = 96  # buckets of calm history before the first burst (8 h)
BURST = 6  # buckets per burst
SLACK_TARGET, EMAIL_TARGET = "C0INCIDENTS", "crisis@example.jp"


def _waves(first: int, second: int, quiet_buckets: int = 36) -> list[tuple[int, int]]:
    """Calm history, a burst of `first` posts a bucket, `quiet_buckets` of calm (3 h: more than the
    normal sensitivity's 2 h rest, less than its 12 h quiet period) and a burst of `second`. Few
    negatives, so only the volume detector fires (no negativity incident inhibits it)."""
    rng = random.Random(3)
    counts = [(rng.randint(8, 12), 1) for _ in range(CALM)]
    counts += [(first, 2)] * BURST
    counts += [(rng.randint(8, 12), 1) for _ in range(quiet_buckets)]
    counts += [(second, 3)] * BURST
    return counts


@dataclass
class Scene:
    factory: sessionmaker[Session]
    brand_id: int
    start: datetime
    during_first: datetime  # a live tick while the first burst is on
    end: datetime  # a tick after the second burst's buckets have closed
    hook_id: str


def _scene(factory: sessionmaker[Session], now: datetime, counts: list[tuple[int, int]], url: str) -> Scene:
    start = bucket_start(now - len(counts) * FIVE, 5)
    with factory() as session, session.begin():
        brand = add_brand(session, now).id
        _fill(session, brand, start, counts)
        session.add(NotificationRoute(channel="slack", target=SLACK_TARGET, created_at=now))
        session.add(NotificationRoute(channel="email", target=EMAIL_TARGET, created_at=now))
        # A receiver that wants new incidents and second waves, not the rest (escalations, resolves…).
        events = ["triggered", "flared_again"]
        hook = WebhookSubscription(url=url, events=events, secret="whsec_dGVzdA==", created_at=now)
        session.add(hook)
        session.flush()
        hook_id = str(hook.id)
    during_first = start + (CALM + BURST) * FIVE + timedelta(seconds=10)
    return Scene(factory, brand, start, during_first, now, hook_id)


def _ticker(factory: sessionmaker[Session], notifier: Notifier | None = None) -> DetectionTicker:
    # auto_resolve None: the incident lives as long as the detector's event (12 h quiet period).
    return DetectionTicker(factory, notifier=notifier or _notifier())


def _notifier() -> Notifier:
    return Notifier(build_incident_context, NotifyConfig("https://noroshi.example.jp"))


def _events(factory: sessionmaker[Session], incident_id: int) -> dict[tuple[str, str], list[str]]:
    """Outbox events per route target, in order."""
    with factory() as session:
        rows = session.scalars(
            select(Notification).where(Notification.incident_id == incident_id).order_by(Notification.id)
        ).all()
    events: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        events.setdefault((row.channel, row.target), []).append(row.event)
    return events


def _the_incident(factory: sessionmaker[Session]) -> Incident:
    with factory() as session:
        return session.scalars(select(Incident)).one()


def _timeline(factory: sessionmaker[Session], incident_id: int) -> list[IncidentEvent]:
    with factory() as session:
        return list(
            session.scalars(
                select(IncidentEvent)
                .where(IncidentEvent.incident_id == incident_id)
                .order_by(IncidentEvent.id)
            )
        )


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, channels=(SLACK_TARGET,)) as fake:
        yield fake


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


def _deliver(factory: sessionmaker[Session], slack: FakeSlack, smtp_port: int, at: datetime) -> Any:
    channels = {
        "slack": SlackChannel(TOKEN, base_url=slack.api_url),
        "email": EmailChannel("127.0.0.1", smtp_port, sender="Noroshi <noroshi@example.jp>", security="none"),
        "webhook": WebhookChannel(httpx.Client(timeout=5), SubscriptionStore(factory), clock=lambda: at),
    }
    return OutboxWorker(factory, channels, lambda: at + timedelta(seconds=1)).run_once()


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_a_second_wave_pages_each_target_once_in_every_channel(factory, now, slack, smtp, hooks) -> None:  # type: ignore[no-untyped-def]
    inbox, smtp_port = smtp
    scene = _scene(factory, now, _waves(120, 120), f"{hooks.url}/hooks/noroshi")
    ticker = _ticker(factory)

    first = ticker.tick(scene.during_first)
    assert first.opened and first.notifications
    assert len(_deliver(factory, slack, smtp_port, scene.during_first).sent) == 3  # card, mail, hook
    incident = _the_incident(factory)
    assert (incident.waves, incident.status) == (1, "triggered")

    second = ticker.tick(scene.end)
    assert second.escalated == [incident.id] and not second.opened
    assert len(second.notifications) == 3  # one per route target: Slack, e-mail, the webhook
    assert all(":flared_again:2" in key for key in second.notifications)
    assert ticker.tick(scene.end + timedelta(seconds=30)).notifications == []  # a repeated tick
    with factory() as session, session.begin():  # the escalation sweep plans again: nothing new
        again = session.get(Incident, incident.id)
        assert again is not None and _notifier().plan(session, again, scene.end + timedelta(minutes=10)) == []

    incident = _the_incident(factory)
    assert (incident.waves, incident.status, incident.severity) == (2, "triggered", "warning")
    assert incident.last_wave_at == scene.end
    waves = [e for e in _timeline(factory, incident.id) if e.event == "flared_again"]
    assert len(waves) == 1 and waves[0].at == scene.end
    assert waves[0].detail["wave"] == 2 and waves[0].detail["reflare"] is True
    assert waves[0].detail["at"] >= (scene.start + (CALM + BURST + 36) * FIVE).isoformat()
    assert _events(factory, incident.id) == {
        ("slack", SLACK_TARGET): ["triggered", "flared_again"],
        ("email", EMAIL_TARGET): ["triggered", "flared_again"],
        ("webhook", scene.hook_id): ["triggered", "flared_again"],
    }

    report = _deliver(factory, slack, smtp_port, scene.end)
    assert (len(report.sent), report.retried, report.dead) == (3, [], [])
    # Slack: the card is edited in place and the thread says it flared again, also in the channel.
    assert len(slack.calls_to("chat.update")) == 1
    reply = slack.calls_to("chat.postMessage")[-1].body
    assert reply["thread_ts"] and reply["reply_broadcast"] in (True, "true", "1")
    assert "再燃 Flared again" in reply["text"] and "第2波 wave 2" in reply["text"]
    # E-mail: a follow-up in the same thread that says why it arrives.
    assert len(inbox.messages) == 2
    first, follow_up = (received.message() for received in inbox.messages)
    assert follow_up["Subject"] == "Re: " + first["Subject"]
    assert follow_up["X-Noroshi-Event"] == "flared_again"
    assert _text(follow_up).startswith("再燃しました")
    # Webhook: the event name and the wave count.
    assert [r.body["type"] for r in hooks.received] == ["incident.triggered", "incident.flared_again"]
    assert [r.body["data"]["incident"]["waves"] for r in hooks.received] == [1, 2]


class _CrashingNotifier(Notifier):
    """Fails while planning, after the tick has applied the signals: the worker dies mid-transaction."""

    def plan(self, *args: Any, **kwargs: Any) -> list[str]:
        raise RuntimeError("worker killed")


def test_a_restarted_worker_rerunning_the_bucket_pages_once(factory, now, hooks) -> None:  # type: ignore[no-untyped-def]
    scene = _scene(factory, now, _waves(120, 120), f"{hooks.url}/hooks/noroshi")
    _ticker(factory).tick(scene.during_first)
    incident_id = _the_incident(factory).id
    crashed = DetectionTicker(factory, notifier=_CrashingNotifier(build_incident_context, NotifyConfig("x")))
    assert crashed.tick(scene.end).escalated == []  # rolled back: nothing of it committed
    assert _the_incident(factory).waves == 1
    restarted = _ticker(factory)  # a fresh worker: no history cache, the same buckets again
    assert len(restarted.tick(scene.end + timedelta(minutes=1)).notifications) == 3
    assert restarted.tick(scene.end + timedelta(minutes=2)).notifications == []
    assert _the_incident(factory).waves == 2
    assert [e.event for e in _timeline(factory, incident_id)].count("flared_again") == 1
    assert {k: v.count("flared_again") for k, v in _events(factory, incident_id).items()} == {
        ("slack", SLACK_TARGET): 1,
        ("email", EMAIL_TARGET): 1,
        ("webhook", scene.hook_id): 1,
    }


@pytest.mark.parametrize("hush", ["muted", "snoozed"])
def test_a_muted_or_snoozed_incident_stays_silent_when_it_flares_again(factory, now, hooks, hush) -> None:  # type: ignore[no-untyped-def]
    scene = _scene(factory, now, _waves(120, 120), f"{hooks.url}/hooks/noroshi")
    ticker = _ticker(factory)
    ticker.tick(scene.during_first)
    incident_id = _the_incident(factory).id
    snoozed_until = scene.end + timedelta(hours=4)
    with factory() as session, session.begin():
        if hush == "muted":
            session.add(
                Silence(
                    brand_id=scene.brand_id,
                    starts_at=scene.during_first,
                    ends_at=scene.end + timedelta(hours=1),
                    created_by="aiko",
                    reason="まとめサイト転載は想定内",
                    created_at=scene.during_first,
                )
            )
        else:
            IncidentActions(_notifier()).snooze(
                session, incident_id, "aiko", snoozed_until, scene.during_first + timedelta(minutes=1)
            )
    before = _events(factory, incident_id)
    assert ticker.tick(scene.end).notifications == []
    assert _events(factory, incident_id) == before
    incident = _the_incident(factory)
    assert incident.waves == 2  # recorded all the same
    assert "flared_again" in [e.event for e in _timeline(factory, incident_id)]
    if hush == "snoozed":  # a wave at the same severity does not end a snooze (growth would)
        assert (incident.status, incident.snoozed_until) == ("snoozed", snoozed_until)
    else:
        assert incident.muted_by is not None and incident.muted_by.startswith("silence:")


def test_a_wave_that_also_grows_pages_as_an_escalation(factory, now, hooks) -> None:  # type: ignore[no-untyped-def]
    """The second wave is far bigger: one "escalated" page per target, as before waves existed (the
    higher severity is the news); the wave is still on the timeline."""
    scene = _scene(factory, now, _waves(60, 400), f"{hooks.url}/hooks/noroshi")
    ticker = _ticker(factory)
    ticker.tick(scene.during_first)
    incident_id = _the_incident(factory).id
    assert _the_incident(factory).severity == "warning"
    summary = ticker.tick(scene.end)
    assert summary.escalated and set(summary.escalated) == {incident_id}
    incident = _the_incident(factory)
    assert incident.severity == "flame"
    events = _events(factory, incident_id)
    assert events[("slack", SLACK_TARGET)] == ["triggered", "escalated"]
    assert events[("email", EMAIL_TARGET)] == ["triggered", "escalated"]
    # it does not want escalations: the decision is kept as a filtered row (never sent), so the next
    # wave is decided from it
    assert events[("webhook", scene.hook_id)] == ["triggered", "escalated"]
    with factory() as session:
        statuses = session.scalars(
            select(Notification.status)
            .where(Notification.incident_id == incident_id, Notification.channel == "webhook")
            .order_by(Notification.id)
        ).all()
    assert statuses[-1] == "filtered"
    timeline = [e.event for e in _timeline(factory, incident_id)]
    assert "escalated" in timeline


# -- the incident side, signal by signal --------------------------------------------------------------


def test_a_reflare_on_a_resolved_incident_opens_one_new_incident(factory, now) -> None:  # type: ignore[no-untyped-def]
    """The detector sends none (its event ended with the incident), but if one comes, it is handled
    like an escalation of a resolved incident always was: one new incident, no crash."""
    with factory() as session, session.begin():
        brand = add_brand(session, now).id
        first, _ = apply_signal(
            session, brand, volume_signal(now - timedelta(hours=4)), now - timedelta(hours=4)
        )
        resolve_incident(session, first, now - timedelta(hours=1), note="resolved by hand")
        second, what = apply_signal(session, brand, volume_signal(now, reflare=True), now)
        assert what == "opened" and second.id != first.id
        assert (first.status, first.waves, second.waves) == ("resolved", 1, 1)
        assert open_incident_for(session, brand, "volume") is second


def test_a_reflare_on_an_incident_without_a_wave_count_counts_from_one(factory, now) -> None:  # type: ignore[no-untyped-def]
    """Rows written outside the detector (or before the migration's backfill) have no wave count."""
    with factory() as session, session.begin():
        brand = add_brand(session, now).id
        legacy = add_incident(session, brand, now - timedelta(hours=4), severity="warning")
        assert legacy.waves is None
        incident, what = apply_signal(session, brand, volume_signal(now, reflare=True), now)
        assert (incident.id, what, incident.waves, incident.last_wave_at) == (legacy.id, "escalated", 2, now)
        assert incident.severity == "warning" and incident.status == "triggered"


def test_every_channel_and_timeline_has_words_for_flared_again() -> None:
    assert "flared_again" in EVENTS
    assert set(EVENTS) <= set(SLACK_POLICY) and set(EVENTS) <= set(MAIL_LINES)
    assert SLACK_POLICY["flared_again"] == SLACK_POLICY["escalated"]  # in the thread and the channel
    assert SLACK_LINES["flared_again"][1] == "再燃 Flared again"
    assert MAIL_LINES["flared_again"][0].startswith("再燃")
    assert EVENT_LABELS["flared_again"] == "再燃"
    assert REPORT_NAMES["flared_again"] == ("再燃", "Flared again")
