"""The outbox against a real HTTP receiver: idempotent writes, one send per row, Retry-After and
backoff, dead letters, channel state passed back, ordering per target, leases, concurrent workers."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from alerting.outbox import DeliveryConfig, OutboxWorker, backoff_seconds, enqueue, notification_key
from storage.notifications import ChannelState, Notification
from tests.alerting.delivery_kit import PostChannel, Receiver, add_brand, add_incident, receiving

S = timedelta(seconds=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    with receiving() as r:
        yield r


@pytest.fixture
def incident_id(factory, now) -> int:  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        return add_incident(session, add_brand(session, now).id, now).id


def _enqueue(
    factory, incident_id: int, now: datetime, event: str = "triggered", target: str = "T1", seq: int = 1
) -> str:  # type: ignore[no-untyped-def]
    key = notification_key(incident_id, "webhook", target, event, seq)
    with factory() as session, session.begin():
        enqueue(
            session,
            incident_id=incident_id,
            channel="webhook",
            target=target,
            event=event,
            key=key,
            payload={"headline": {"en": event}},
            now=now,
        )
    return key


def _worker(factory, receiver: Receiver, clock: Clock, **config: float) -> OutboxWorker:  # type: ignore[no-untyped-def]
    return OutboxWorker(factory, {"webhook": PostChannel(receiver.url)}, clock, DeliveryConfig(**config))  # type: ignore[arg-type]


def _row(factory, key: str) -> Notification:  # type: ignore[no-untyped-def]
    with factory() as session:
        return session.scalars(select(Notification).where(Notification.idempotency_key == key)).one()


def test_enqueue_twice_writes_one_row_and_rolls_back_with_its_transaction(factory, now, incident_id) -> None:
    key = notification_key(incident_id, "webhook", "T1", "triggered", 1)
    fields = dict(
        incident_id=incident_id,
        channel="webhook",
        target="T1",
        event="triggered",
        key=key,
        payload={},
        now=now,
    )
    with factory() as session, session.begin():
        assert enqueue(session, **fields) is True
        assert enqueue(session, **fields) is False
    with factory() as session, session.begin():
        assert enqueue(session, **fields) is False
    with pytest.raises(RuntimeError), factory() as session, session.begin():
        enqueue(session, **{**fields, "key": key + "-other"})
        raise RuntimeError("the incident change failed")
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 1


def test_a_row_is_delivered_once(factory, now, incident_id, receiver) -> None:
    key = _enqueue(factory, incident_id, now)
    worker = _worker(factory, receiver, Clock(now))
    assert worker.run_once().sent == [_row(factory, key).id]
    assert worker.run_once().handled == 0
    _enqueue(factory, incident_id, now)  # the same notification decided again
    assert worker.run_once().handled == 0
    assert receiver.keys() == [key]
    row = _row(factory, key)
    assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 1, now, None)


def test_retry_after_is_honoured_then_backoff_then_sent(factory, now, incident_id, receiver) -> None:
    receiver.script = [(429, {"retry-after": "7"}), (503, {})]
    key = _enqueue(factory, incident_id, now)
    clock = Clock(now)
    worker = _worker(factory, receiver, clock, backoff_base_seconds=5)
    assert len(worker.run_once().retried) == 1
    assert _row(factory, key).next_attempt_at == now + 7 * S
    clock.advance(6 * S)
    assert worker.run_once().handled == 0  # Slack said 7 s
    clock.advance(1 * S)
    assert len(worker.run_once().retried) == 1  # 503 on attempt 2 → backoff 10 s
    row = _row(factory, key)
    assert row.next_attempt_at == now + 17 * S and row.last_error == "HTTP 503" and row.status == "pending"
    clock.advance(9 * S)
    assert worker.run_once().handled == 0
    clock.advance(1 * S)
    assert len(worker.run_once().sent) == 1
    assert receiver.keys() == [key, key, key]
    assert [r.body["attempt"] for r in receiver.received] == [1, 2, 3]


def test_backoff_doubles_up_to_its_ceiling() -> None:
    config = DeliveryConfig(backoff_base_seconds=5, backoff_max_seconds=60)
    assert [backoff_seconds(n, config) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


def test_dead_letter_after_the_attempt_limit(factory, now, incident_id, receiver) -> None:
    receiver.script = [(500, {})] * 10
    key = _enqueue(factory, incident_id, now)
    clock = Clock(now)
    worker = _worker(factory, receiver, clock, max_attempts=3, backoff_base_seconds=1)
    reports = []
    for _ in range(6):
        reports.append(worker.run_once())
        clock.advance(timedelta(minutes=1))
    assert [len(r.retried) for r in reports[:2]] == [1, 1]
    assert len(reports[2].dead) == 1 and all(r.handled == 0 for r in reports[3:])
    row = _row(factory, key)
    assert (row.status, row.attempts, row.last_error) == ("dead", 3, "HTTP 500")
    assert len(receiver.received) == 3


def test_a_permanent_error_dead_letters_at_once(factory, now, incident_id, receiver) -> None:
    receiver.script = [(404, {})]
    key = _enqueue(factory, incident_id, now)
    assert len(_worker(factory, receiver, Clock(now)).run_once().dead) == 1
    assert _row(factory, key).status == "dead"


def test_a_notification_for_an_unconfigured_channel_is_dead_with_a_clear_error(
    factory, now, incident_id
) -> None:
    key = _enqueue(factory, incident_id, now)
    report = OutboxWorker(factory, {}, Clock(now)).run_once()
    assert len(report.dead) == 1
    assert _row(factory, key).last_error == "no 'webhook' channel is configured"


def test_channel_state_is_stored_and_passed_back_per_incident_and_target(
    factory, now, incident_id, receiver
) -> None:
    _enqueue(factory, incident_id, now, "triggered")
    _enqueue(factory, incident_id, now, "acknowledged")
    _enqueue(factory, incident_id, now, "triggered", target="T2")
    assert len(_worker(factory, receiver, Clock(now)).run_once().sent) == 3
    states = {(r.body["target"], r.body["event"]): r.body["state"] for r in receiver.received}
    assert states[("T1", "triggered")] == {}
    assert states[("T1", "acknowledged")] == {"first_id": 1, "last_id": 1}
    assert states[("T2", "triggered")] == {}
    with factory() as session:
        stored = session.get(ChannelState, (incident_id, "webhook", "T1"))
        ack_serial = 1 + [(r.body["target"], r.body["event"]) for r in receiver.received].index(
            ("T1", "acknowledged")
        )
        assert stored.state == {"first_id": 1, "last_id": ack_serial}


def test_a_later_row_waits_for_an_earlier_one_to_the_same_target(factory, now, incident_id, receiver) -> None:
    """An edit must not overtake the post it edits (Slack: chat.update needs the ts of the card)."""
    receiver.script = [(503, {})]
    first = _enqueue(factory, incident_id, now, "triggered")
    second = _enqueue(factory, incident_id, now, "acknowledged")
    clock = Clock(now)
    worker = _worker(factory, receiver, clock, backoff_base_seconds=5)
    worker.run_once()
    assert receiver.keys() == [first]
    assert _row(factory, second).status == "pending"
    clock.advance(5 * S)
    worker.run_once()
    assert receiver.keys() == [first, first, second]


def test_a_claim_whose_worker_died_is_retried_after_the_lease(factory, now, incident_id, receiver) -> None:
    key = _enqueue(factory, incident_id, now)
    clock = Clock(now)
    crashed = _worker(factory, receiver, clock, lease_seconds=30)
    assert [c.idempotency_key for c in crashed.claim(10)] == [key]  # …and never delivers
    clock.advance(29 * S)
    survivor = _worker(factory, receiver, clock, lease_seconds=30)
    assert survivor.run_once().handled == 0
    clock.advance(1 * S)
    assert len(survivor.run_once().sent) == 1
    assert receiver.keys() == [key]
    assert _row(factory, key).attempts == 2


def test_two_workers_never_send_the_same_row(factory, now, db_url, receiver) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent workers are a PostgreSQL deployment (SQLite is the single-process default)")
    with factory() as session, session.begin():
        brand = add_brand(session, now).id
        incidents = [add_incident(session, brand, now, kind=f"k{i}").id for i in range(40)]
    keys = [_enqueue(factory, i, now, target=f"T{t}") for i in incidents for t in range(5)]
    clock = Clock(now)
    workers = [_worker(factory, receiver, clock, batch_size=7) for _ in range(4)]
    start = threading.Barrier(len(workers))
    reports = []

    def run(worker: OutboxWorker) -> None:
        start.wait()
        reports.append(worker.run_once())

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(receiver.keys()) == sorted(keys)  # each exactly once
    assert sum(len(r.sent) for r in reports) == len(keys)
    assert sum(1 for r in reports if r.sent) >= 2, "one worker did everything: no concurrency was tested"


def test_a_long_target_is_hashed_into_the_key() -> None:
    many = ",".join(f"member{i}@crisis.example.jp" for i in range(20))
    key = notification_key(7, "email", many, "triggered", 1)
    assert len(key) < 255 and key.startswith("incident:7:email:sha1:") and key.endswith(":triggered:1")
    assert key != notification_key(7, "email", many + ",one-more@example.jp", "triggered", 1)
