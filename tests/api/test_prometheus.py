"""GET /metrics: scraped after real ingest, detection ticks and deliveries, parsed with prometheus_client's
own parser; who may scrape; a worker's own metrics server on loopback."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from alerting.outbox import OutboxWorker, enqueue, notification_key
from alerting.tick import DetectionTicker
from api.app import create_app
from api.auth import create_api_key
from api.context import ApiContext
from collectors.ingest import MentionIngestor
from collectors.jobs import SourceRunner
from storage.engine import make_engine, make_session_factory
from storage.telemetry import Telemetry
from storage.timebuckets import bucket_start
from tests.alerting.delivery_kit import PostChannel, Receiver, add_incident, receiving
from tests.alerting.test_tick import _day_with_flare, _fill
from tests.helpers import add_brand, add_source

FIVE = timedelta(minutes=5)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


@pytest.fixture
def app_client(
    factory: sessionmaker[Session], scorer, now: datetime, telemetry: Telemetry
) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    context = ApiContext(
        factory=factory, ingestor=MentionIngestor(scorer, telemetry=telemetry), clock=lambda: now
    )
    with TestClient(create_app(context, telemetry=telemetry)) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def scrape(client: TestClient, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def _key(factory: sessionmaker[Session], now: datetime, *scopes: str) -> str:
    with factory() as session, session.begin():
        _, secret = create_api_key(session, "metrics-test", list(scopes), now)
    return secret


def test_ingest_tick_and_delivery_move_the_counters(app_client, factory, now, telemetry, receiver) -> None:  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        brand_id = add_brand(session, "ノロシ珈琲", ["ノロシ珈琲"], now).id
    before = scrape(app_client)
    assert value(before, "noroshi_mentions_ingested_total", source_kind="push", status="stored") == 0
    assert value(before, "noroshi_database_up") == 1

    items = [{"id": f"p{i}", "posted_at": now.isoformat(), "text": f"ノロシ珈琲 最高 {i}"} for i in range(3)]
    items.append({"id": "other", "posted_at": now.isoformat(), "text": "unrelated post"})
    key = {"Authorization": f"Bearer {_key(factory, now, 'ingest')}"}
    assert app_client.post("/api/v1/mentions", json={"mentions": items}, headers=key).status_code == 200
    assert app_client.post("/api/v1/mentions", json={"mentions": items[:1]}, headers=key).status_code == 200

    # A day of buckets with a flare: the real tick opens incidents; its time goes into the histogram.
    start = bucket_start(now - timedelta(days=1), 5)
    rng = random.Random(3)
    with factory() as session, session.begin():
        _fill(session, brand_id, start, _day_with_flare(rng, flare_at=250))
    began = time.perf_counter()
    summary = DetectionTicker(factory).tick(now)
    telemetry.observe_tick(time.perf_counter() - began, summary.buckets_evaluated)  # as services.detect does
    assert summary.opened

    # Two notifications for one incident: the receiver accepts the first and fails the second with 500.
    with factory() as session, session.begin():
        incident_id = add_incident(session, brand_id, now, kind="volume", severity="flame").id
        for seq in (1, 2):
            enqueue(
                session,
                incident_id=incident_id,
                channel="webhook",
                target="T",
                event="triggered",
                key=notification_key(incident_id, "webhook", "T", "triggered", seq),
                payload={},
                now=now,
            )
    receiver.script = [(200, {}), (500, {})]
    OutboxWorker(factory, {"webhook": PostChannel(receiver.url)}, lambda: now, telemetry=telemetry).run_once()

    after = scrape(app_client)
    assert value(after, "noroshi_mentions_ingested_total", source_kind="push", status="stored") == 3
    assert value(after, "noroshi_mentions_ingested_total", source_kind="push", status="duplicate") == 1
    assert value(after, "noroshi_mentions_ingested_total", source_kind="push", status="unmatched") == 1
    assert value(after, "noroshi_detection_tick_seconds_count") == 1
    assert value(after, "noroshi_detection_buckets_evaluated_total") == summary.buckets_evaluated == 288
    assert value(after, "noroshi_notifications_delivered_total", channel="webhook", result="sent") == 1
    assert value(after, "noroshi_notifications_delivered_total", channel="webhook", result="retry") == 1
    assert value(after, "noroshi_outbox_notifications", status="pending") == 1  # the retry waits
    assert value(after, "noroshi_outbox_notifications", status="dead") == 0
    assert value(after, "noroshi_incidents", status="triggered", severity="flame") >= 1
    opened = sum(v for (name, labels), v in after.items() if name == "noroshi_incidents")
    assert opened == len(summary.opened) + 1
    assert value(after, "noroshi_incidents", status="resolved", severity="attention") == 0  # present at 0


def test_sources_by_health_and_collect_runs(app_client, factory, scorer, now, telemetry) -> None:  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        add_source(session, "healthy", now, last_success_at=now - timedelta(minutes=7))
        add_source(
            session,
            "x",
            now,
            kind="x",
            consecutive_failures=2,
            last_error="SourceAuthError: 401 from X",
            last_success_at=now - timedelta(hours=2),
        )
        add_source(session, "off", now, enabled=False, consecutive_failures=9, last_error="gone")
        with socket.socket() as s:  # a port nobody listens on: the collect run fails for real
            s.bind(("127.0.0.1", 0))
            dead_url = f"http://127.0.0.1:{s.getsockname()[1]}/feed.xml"
        broken = add_source(session, "broken-feed", now, kind="rss", settings={"url": dead_url}).id
    runner = SourceRunner(factory, MentionIngestor(scorer, telemetry=telemetry), http=httpx.Client(timeout=2))
    outcome = runner.run(broken, now)
    telemetry.observe_collect(ok=outcome.ok, not_due=outcome.skipped_run, skipped_posts=outcome.skipped)
    again = runner.run(broken, now)  # backing off now: not due
    telemetry.observe_collect(ok=again.ok, not_due=again.skipped_run, skipped_posts=again.skipped)

    samples = scrape(app_client)
    assert value(samples, "noroshi_sources", health="ok") == 1
    assert value(samples, "noroshi_sources", health="auth_error") == 1
    assert value(samples, "noroshi_sources", health="failing") == 1  # the disabled one is not counted
    assert value(samples, "noroshi_collect_runs_total", result="failed") == 1
    assert value(samples, "noroshi_collect_runs_total", result="not_due") == 1
    assert value(samples, "noroshi_collect_runs_total", result="ok") == 0
    ages = {
        dict(labels)["source"]: v
        for (name, labels), v in samples.items()
        if name == "noroshi_source_last_success_age_seconds"
    }
    assert ages == {"healthy": 420.0, "x": 7200.0}
    failures = {
        dict(labels)["source"]: v
        for (name, labels), v in samples.items()
        if name == "noroshi_source_consecutive_failures"
    }
    assert failures == {"healthy": 0, "x": 2, "broken-feed": 1}


def test_who_may_scrape(factory, scorer, now) -> None:  # type: ignore[no-untyped-def]
    read = _key(factory, now, "read")
    ingest_only = _key(factory, now, "ingest")
    context = ApiContext(factory=factory, ingestor=MentionIngestor(scorer), clock=lambda: now)
    cases = [  # (metrics token, client host, Authorization header, expected status)
        (None, "testclient", None, 200),
        (None, "10.1.2.3", None, 401),
        (None, "10.1.2.3", f"Bearer {read}", 200),
        (None, "10.1.2.3", f"Bearer {ingest_only}", 403),
        ("s3cret-token", "10.1.2.3", "Bearer s3cret-token", 200),
        ("s3cret-token", "testclient", None, 401),  # once a token is set, loopback needs it too
        ("s3cret-token", "10.1.2.3", "Bearer wrong", 401),
        ("s3cret-token", "10.1.2.3", f"Bearer {read}", 200),
    ]
    for token, host, auth, expected in cases:
        app = create_app(context, metrics_token=token)
        with TestClient(app, client=(host, 50000)) as client:
            response = client.get("/metrics", headers={"Authorization": auth} if auth else {})
        assert response.status_code == expected, (token, host, auth, response.text)
        if expected != 200:
            assert response.headers["content-type"] == "application/problem+json"


def test_two_apps_do_not_share_counters(factory, scorer, now) -> None:  # type: ignore[no-untyped-def]
    first, second = Telemetry(), Telemetry()
    first.observe_delivery("slack", "sent")
    for telemetry, expected in ((first, 1), (second, 0)):
        context = ApiContext(factory=factory, ingestor=MentionIngestor(scorer), clock=lambda: now)
        with TestClient(create_app(context, telemetry=telemetry)) as client:
            samples = scrape(client)
        assert (
            value(samples, "noroshi_notifications_delivered_total", channel="slack", result="sent")
            == expected
        )


def test_an_unreachable_database_is_reported_not_raised(scorer, now, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'noroshi.db'}")
    context = ApiContext(
        factory=make_session_factory(engine), ingestor=MentionIngestor(scorer), clock=lambda: now
    )
    with TestClient(create_app(context)) as client:
        samples = scrape(client)
    assert value(samples, "noroshi_database_up") == 0
    assert value(samples, "noroshi_collect_runs_total", result="ok") == 0  # in-process counters still served
    engine.dispose()


def test_a_worker_serves_its_counters_on_its_own_port() -> None:
    telemetry = Telemetry()
    telemetry.observe_ingest("rss", stored=5, duplicates=2, unmatched=0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stop = telemetry.serve("127.0.0.1", port)
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    finally:
        stop()
    samples = parse(response.text)
    assert value(samples, "noroshi_mentions_ingested_total", source_kind="rss", status="stored") == 5
    assert value(samples, "noroshi_mentions_ingested_total", source_kind="rss", status="duplicate") == 2
    assert ("noroshi_database_up", frozenset()) not in samples  # stored state is the API's to report
