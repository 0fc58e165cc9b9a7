"""Bucket close → Slack card delivered: p50 / p99 over many simultaneous flare-ups.

    .venv/bin/python -m benchmarks.notify_latency [--brands 40] [--pg postgresql://postgres@127.0.0.1:5432/test]

Each brand gets a quiet day of 5-minute buckets, then a flare-up over the next hour. After a catch-up
tick over the quiet day, the clock steps bucket by bucket as a live deployment would: at each bucket
close the detection tick runs (opens / escalates incidents and writes the outbox in one transaction),
then the delivery loop sends, through slack-sdk, to a local server that behaves like Slack's Web API
(tests/fakes/slack_api.py) and timestamps each card as it arrives. Latency = arrival − the moment the
tick started (the bucket closed). The baseline, in the same run, is the same tick with no notifier
(detection alone). Not included: the scheduler's wait until its next detect run
(NOROSHI_DETECT_INTERVAL_SECONDS) and any deliberate Retry-After. Needs no data files.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from alerting.channels.slack import SlackChannel
from alerting.notify import Notifier, NotifyConfig
from alerting.notify_policy import RouteView
from alerting.outbox import OutboxWorker
from alerting.summary import build_incident_context
from alerting.tick import DetectionTicker
from storage.engine import make_engine, make_session_factory, normalize_url
from storage.mentions import Bucket
from storage.migrations import upgrade
from storage.models import Brand
from tests.fakes.slack_api import Call, FakeSlack

FIVE = timedelta(minutes=5)
END_OF_QUIET = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
FLARE_BUCKETS = 12
TOKEN = "xoxb-test-token"


class TimedSlack(FakeSlack):
    def __init__(self) -> None:
        super().__init__(token=TOKEN, channels=("C0INCIDENTS",))
        self.arrivals: list[float] = []

    def _record(self, call: Call) -> str | None:
        if call.method == "chat.postMessage":
            self.arrivals.append(time.perf_counter())
        return super()._record(call)


def seed(url: str, brands: int) -> None:
    rng = random.Random(5)
    factory = make_session_factory(make_engine(url))
    with factory() as session, session.begin():
        for b in range(brands):
            brand = Brand(
                name=f"brand {b}",
                keywords=[f"b{b}"],
                exclude=[],
                languages=[],
                created_at=END_OF_QUIET,
                updated_at=END_OF_QUIET,
            )
            session.add(brand)
            session.flush()
            onset = rng.randint(0, 5)  # not every brand flares in the same bucket
            for i in range(-288, FLARE_BUCKETS):
                base = rng.randint(6, 12)
                loud = i >= onset
                total = base * min(8, 2 + i - onset) if loud else base
                negative = int(total * 0.6) if loud else rng.randint(0, 2)
                session.add(
                    Bucket(
                        brand_id=brand.id,
                        start=END_OF_QUIET + i * FIVE,
                        total=total,
                        negative=negative,
                        reach=total * 100,
                        authors=total,
                    )
                )


def run(url: str, brands: int, notify: bool) -> tuple[list[float], list[float], int]:
    """(per-card latencies, per-step tick+delivery durations, cards) for one fresh database."""
    seed(url, brands)
    factory = make_session_factory(make_engine(url))
    with TimedSlack() as slack:
        notifier = Notifier(
            build_incident_context,
            NotifyConfig("https://noroshi.example.jp", (RouteView("slack", "C0INCIDENTS"),)),
        )
        ticker = DetectionTicker(factory, notifier=notifier if notify else None)
        clock = [END_OF_QUIET]
        worker = OutboxWorker(
            factory, {"slack": SlackChannel(TOKEN, base_url=slack.api_url)}, lambda: clock[0]
        )
        ticker.tick(END_OF_QUIET + timedelta(seconds=1))  # catch up over the quiet day
        latencies: list[float] = []
        steps: list[float] = []
        for k in range(1, FLARE_BUCKETS + 1):
            clock[0] = END_OF_QUIET + k * FIVE + timedelta(seconds=1)
            seen = len(slack.arrivals)
            closed = time.perf_counter()
            ticker.tick(clock[0])
            if notify:
                worker.run_once()
            steps.append(time.perf_counter() - closed)
            latencies += [arrived - closed for arrived in slack.arrivals[seen:]]
        return latencies, steps, len(slack.arrivals)


@contextmanager
def sqlite_db() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        yield url


@contextmanager
def pg_db(admin: str) -> Iterator[str]:
    admin = normalize_url(admin)
    name = f"noroshi_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brands", type=int, default=40)
    parser.add_argument("--pg", help="PostgreSQL server URL (a throw-away database is made there)")
    args = parser.parse_args()
    backends = [("SQLite (file, WAL)", sqlite_db)]
    if args.pg:
        backends.append(("PostgreSQL (loopback)", lambda: pg_db(args.pg)))
    print(
        f"`.venv/bin/python -m benchmarks.notify_latency --brands {args.brands}"
        + (" --pg $NOROSHI_TEST_DATABASE_URL`" if args.pg else "`")
    )
    print()
    print(
        "| database | cards | latency p50 | latency p99 | max "
        "| tick alone p50 (per bucket) | tick + notify + deliver p50 | ratio |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, make in backends:
        with make() as url:
            _, alone, _ = run(url, args.brands, notify=False)
        with make() as url:
            latencies, steps, cards = run(url, args.brands, notify=True)
        if not latencies:
            print(f"| {name} | 0 | – | – | – | – | – | – |")
            continue
        base = statistics.median(alone)
        full = statistics.median(steps)
        print(
            f"| {name} | {cards} | {pct(latencies, 0.5):.2f} s | {pct(latencies, 0.99):.2f} s | "
            f"{max(latencies):.2f} s | {base:.2f} s | {full:.2f} s | {full / base:.2f}× |"
        )


if __name__ == "__main__":
    main()
