"""Webhook subscriptions that take only some events (`WebhookSubscription.events`): the filter applies
to delivery, not to what the subscription has been told. A decision it does not take is recorded as a
`filtered` outbox row that is never sent, so the decision table sequences it like any other target:
one subscribed to "flared_again" alone hears every new wave once, one subscribed to "escalated" and
"resolved" hears exactly those. Real `WebhookChannel` deliveries to a local HTTP receiver."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerting.actions import IncidentActions
from alerting.channels.webhook import SubscriptionStore, WebhookChannel
from alerting.incidents import apply_signal
from alerting.notify import Notifier, NotifyConfig
from alerting.outbox import DeliveryReport, OutboxWorker
from alerting.summary import build_incident_context
from alerting.tick import DetectionTicker
from api.pages.queries import sent_notifications
from detectors import Signal
from storage.incidents import Incident
from storage.notifications import Notification, WebhookSubscription
from storage.timebuckets import bucket_start
from tests.alerting.delivery_kit import Receiver, add_brand, receiving
from tests.alerting.test_flared_again import BURST, CALM, FIVE, _waves
from tests.alerting.test_tick import _fill
from tests.helpers import volume_signal

M = timedelta(minutes=1)
# name → events subscribed to ([] = every event). Each posts to its own path on one receiver.
HOOKS: dict[str, list[str]] = {
    "waves": ["flared_again"],
    "esc": ["escalated", "resolved"],
    "acks": ["acknowledged"],
    "all": [],
    "plain": [],  # another unfiltered one
}


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


def _notifier() -> Notifier:
    return Notifier(build_incident_context, NotifyConfig("https://noroshi.example.jp"))


def _subscribe(factory: sessionmaker[Session], url: str, now: datetime, names: list[str]) -> dict[str, str]:
    """Webhook subscriptions (name → id) posting to `url`/name."""
    ids: dict[str, str] = {}
    with factory() as session, session.begin():
        for name in names:
            hook = WebhookSubscription(
                url=f"{url}/{name}", events=HOOKS[name], secret="whsec_dGVzdA==", created_at=now
            )
            session.add(hook)
            session.flush()
            ids[name] = str(hook.id)
    return ids


def _count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Notification)) or 0


def _deliver(factory: sessionmaker[Session], at: datetime) -> DeliveryReport:
    with httpx.Client(timeout=5) as http:
        channel = WebhookChannel(http, SubscriptionStore(factory), clock=lambda: at)
        return OutboxWorker(factory, {"webhook": channel}, lambda: at + timedelta(seconds=1)).run_once()


def _rows(factory: sessionmaker[Session], ids: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """(event, status) per subscription name, in the order written."""
    names = {hook_id: name for name, hook_id in ids.items()}
    rows: dict[str, list[tuple[str, str]]] = {name: [] for name in ids}
    with factory() as session:
        for row in session.scalars(select(Notification).order_by(Notification.id)):
            rows[names[row.target]].append((row.event, row.status))
    return rows


def _posts(receiver: Receiver) -> dict[str, list[tuple[str, int]]]:
    """(type, waves) of every POST per subscription name, in the order received."""
    posts: dict[str, list[tuple[str, int]]] = {}
    for r in receiver.received:
        posts.setdefault(r.path.strip("/"), []).append((r.body["type"], r.body["data"]["incident"]["waves"]))
    return posts


@dataclass
class Run:
    factory: sessionmaker[Session]
    brand_id: int
    hooks: Receiver
    incident_id: int = 0

    def step(self, signal: Signal, at: datetime) -> list[str]:
        """What the tick does for one signal: fold it in and plan, in one transaction; then deliver.
        A repeated tick and a restarted worker (a fresh notifier) replanning the same state, and a
        second delivery run, must add no row and no POST."""
        with self.factory() as session, session.begin():
            incident, _ = apply_signal(session, self.brand_id, signal, at)
            keys = _notifier().plan(session, incident, at)
            self.incident_id = incident.id
        self.deliver_and_replan(at)
        return keys

    def act(self, action: str, at: datetime) -> list[str]:
        with self.factory() as session, session.begin():
            result = getattr(IncidentActions(_notifier()), action)(session, self.incident_id, "web:aiko", at)
        self.deliver_and_replan(at)
        return result.notifications

    def deliver_and_replan(self, at: datetime) -> None:
        report = _deliver(self.factory, at)
        assert (report.retried, report.dead, report.filtered) == ([], [], [])
        rows, posts = _count(self.factory), len(self.hooks.received)
        for later in (at, at + timedelta(seconds=30)):
            with self.factory() as session, session.begin():
                incident = session.get(Incident, self.incident_id)
                assert incident is not None
                assert _notifier().plan(session, incident, later) == []
        assert _deliver(self.factory, at + timedelta(seconds=30)).handled == 0
        assert (_count(self.factory), len(self.hooks.received)) == (rows, posts)


def test_each_subscription_hears_only_its_events_in_the_right_order(factory, now, hooks) -> None:  # type: ignore[no-untyped-def]
    ids = _subscribe(factory, hooks.url, now, ["waves", "esc", "acks", "all"])
    with factory() as session, session.begin():
        brand_id = add_brand(session, now).id
    run = Run(factory, brand_id, hooks)

    opened = run.step(volume_signal(now), now)
    # Only what goes out is returned; the filtered rows are recorded all the same (see below).
    assert opened == [f"incident:{run.incident_id}:webhook:{ids['all']}:triggered:1"]
    run.step(volume_signal(now + 10 * M, reflare=True), now + 10 * M)  # wave 2, same severity
    run.step(volume_signal(now + 20 * M, severity="flame"), now + 20 * M)  # growth: an escalation
    # Wave 3 after the escalation: "waves" was told of the escalation (filtered), so this is a new wave
    # for it, not a second try at the same growth.
    run.step(volume_signal(now + 30 * M, severity="flame", reflare=True), now + 30 * M)
    assert len(run.act("acknowledge", now + 40 * M)) == 2  # "all" and "acks"
    assert len(run.act("resolve", now + 50 * M)) == 2  # "all" and "esc"

    assert _posts(hooks) == {
        "waves": [("incident.flared_again", 2), ("incident.flared_again", 3)],
        "esc": [("incident.escalated", 2), ("incident.resolved", 3)],
        "acks": [("incident.acknowledged", 3)],
        "all": [
            ("incident.triggered", 1),
            ("incident.flared_again", 2),
            ("incident.escalated", 2),
            ("incident.flared_again", 3),
            ("incident.acknowledged", 3),
            ("incident.resolved", 3),
        ],
    }
    paging = ["triggered", "flared_again", "escalated", "flared_again"]
    sent = {"flared_again"}
    assert _rows(factory, ids)["waves"] == [
        *((e, "sent" if e in sent else "filtered") for e in paging),
        ("resolved", "filtered"),  # announced with the resolve: the same key the tick would use
    ]
    sent = {"escalated"}
    assert _rows(factory, ids)["esc"] == [
        *((e, "sent" if e in sent else "filtered") for e in paging),
        ("resolved", "sent"),
    ]
    # Told only through filtered rows, and still hears the action it subscribes to, nothing else.
    assert _rows(factory, ids)["acks"] == [
        *((e, "filtered") for e in paging),
        ("acknowledged", "sent"),
        ("resolved", "filtered"),
    ]
    # The unfiltered subscription: every row, every one sent, as before filters were recorded.
    assert _rows(factory, ids)["all"] == [*((e, "sent") for e in [*paging, "acknowledged", "resolved"])]
    # The incident page lists deliveries: the filtered rows are not among them.
    with factory() as session:
        listed = sent_notifications(session, run.incident_id)
    assert len(listed) == len(hooks.received) == 11


def test_an_unfiltered_subscription_is_told_the_same_next_to_filtered_ones(factory, now, hooks) -> None:  # type: ignore[no-untyped-def]
    """The same story twice, on two brands: alone, and next to the filtered subscriptions (they cover
    every brand). The unfiltered one gets the same rows, keys and POSTs both times."""
    with factory() as session, session.begin():
        alone_brand, crowded_brand = add_brand(session, now, "単独").id, add_brand(session, now, "混在").id

    def story(brand_id: int) -> list[str]:
        run = Run(factory, brand_id, hooks)
        run.step(volume_signal(now), now)
        run.step(volume_signal(now + 10 * M, reflare=True), now + 10 * M)
        run.step(volume_signal(now + 20 * M, severity="flame"), now + 20 * M)
        run.step(volume_signal(now + 30 * M, severity="flame", reflare=True), now + 30 * M)
        run.act("resolve", now + 50 * M)
        with factory() as session:
            keys = session.scalars(
                select(Notification.idempotency_key)
                .where(Notification.incident_id == run.incident_id, Notification.status == "sent")
                .order_by(Notification.id)
            ).all()
        return [key.replace(f"incident:{run.incident_id}:", "") for key in keys]

    ids = _subscribe(factory, hooks.url, now, ["all"])
    alone = story(alone_brand)
    posts_alone = _posts(hooks)["all"]
    ids |= _subscribe(factory, hooks.url, now, ["waves", "esc"])
    crowded = [key for key in story(crowded_brand) if f":{ids['all']}:" in key]
    assert (
        crowded
        == alone
        == [
            f"webhook:{ids['all']}:{event}"
            for event in ("triggered:1", "flared_again:2", "escalated:flame", "flared_again:3", "resolved:1")
        ]
    )
    assert _posts(hooks)["all"] == posts_alone * 2


def test_a_tick_rerun_by_a_restarted_worker_pages_a_wave_once(factory, now, hooks) -> None:  # type: ignore[no-untyped-def]
    """End to end with the detection tick (the scene of test_flared_again): "waves" hears nothing of
    the trigger and one flared_again; a repeated tick and a fresh worker on the same buckets add
    nothing."""
    counts = _waves(120, 120)
    start = bucket_start(now - len(counts) * FIVE, 5)
    with factory() as session, session.begin():
        _fill(session, add_brand(session, now).id, start, counts)
    ids = _subscribe(factory, hooks.url, now, ["waves", "esc"])
    during_first = start + (CALM + BURST) * FIVE + timedelta(seconds=10)

    ticker = DetectionTicker(factory, notifier=_notifier())
    assert ticker.tick(during_first).opened
    assert _deliver(factory, during_first).handled == 0  # both filtered out the trigger
    assert _rows(factory, ids) == {"waves": [("triggered", "filtered")], "esc": [("triggered", "filtered")]}

    assert len(ticker.tick(now).notifications) == 1  # wave 2, for "waves" only
    assert ticker.tick(now + timedelta(seconds=30)).notifications == []
    restarted = DetectionTicker(factory, notifier=_notifier())  # no history cache, same buckets
    assert restarted.tick(now + M).notifications == []
    assert len(_deliver(factory, now + M).sent) == 1
    assert _deliver(factory, now + 2 * M).handled == 0
    assert _posts(hooks) == {"waves": [("incident.flared_again", 2)]}
    assert _rows(factory, ids) == {
        "waves": [("triggered", "filtered"), ("flared_again", "sent")],
        "esc": [("triggered", "filtered"), ("flared_again", "filtered")],
    }


def test_a_row_whose_subscription_dropped_the_event_is_filtered_not_sent(factory, now, hooks) -> None:  # type: ignore[no-untyped-def]
    """Written while subscribed, the subscription changed before delivery: nothing is posted and the
    row says so (not `sent`, so the incident page does not list it as delivered)."""
    ids = _subscribe(factory, hooks.url, now, ["all", "plain"])
    with factory() as session, session.begin():
        incident, _ = apply_signal(session, add_brand(session, now).id, volume_signal(now), now)
        incident_id = incident.id
        assert len(_notifier().plan(session, incident, now)) == 2
    with factory() as session, session.begin():
        hook = session.get(WebhookSubscription, int(ids["all"]))
        assert hook is not None
        hook.events = ["resolved"]
    with httpx.Client(timeout=5) as http:
        channels = {"webhook": WebhookChannel(http, SubscriptionStore(factory), clock=lambda: now)}
        report = OutboxWorker(factory, channels, lambda: now).run_once()
    assert (len(report.filtered), len(report.sent), report.dead) == (1, 1, [])
    assert [r.path for r in hooks.received] == ["/plain"]  # the other subscription, as usual
    with factory() as session:
        row = session.scalars(select(Notification).where(Notification.target == ids["all"])).one()
        assert (row.status, row.sent_at, row.last_error) == ("filtered", None, "not subscribed to triggered")
        assert [n["event"] for n in sent_notifications(session, incident_id)] == ["triggered"]
        assert len(sent_notifications(session, incident_id)) == 1
