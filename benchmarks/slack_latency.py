"""Bucket close → Slack card delivered, end to end, against a local Slack-like server.

Each round, a few brands flare in the bucket that just closed. The clock starts when the detection tick
starts for that bucket (the scheduler runs the tick at the boundary) and stops when Slack has accepted
the card (its chat.postMessage arrived + the server's answer delay). In between: detection for every
brand, incident + context + outbox rows in one transaction, then the outbox loop (run at once after a
tick that wrote rows, as `noroshi.services.JobScheduler` does) through slack-sdk over HTTP. The server
answers after --slack-ms to stand in for Slack's own round trip. Baseline in the same run: a bare
`WebClient.chat_postMessage` of a card to the same server.

    .venv/bin/python benchmarks/slack_latency.py [--rounds 20] [--brands 2] [--slack-ms 150] [--pg URL]

PostgreSQL is measured when --pg or NOROSHI_TEST_DATABASE_URL is given (a throw-away database).
Not included: the wait between a bucket's end and the tick (the tick interval,
NOROSHI_DETECT_INTERVAL_SECONDS) and any deliberate Retry-After.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_sdk import WebClient

from alerting.channels.slack import SlackChannel
from alerting.channels.slack_blocks import build_card
from alerting.notify import Notifier, NotifyConfig
from alerting.notify_policy import RouteView
from alerting.outbox import OutboxWorker
from alerting.summary import build_incident_context
from alerting.tick import DetectionTicker
from benchmarks.scratch_db import create_database, drop_database
from storage.brands import Brand
from storage.engine import make_engine, make_session_factory, normalize_url
from storage.mentions import Bucket
from storage.migrations import upgrade
from storage.timebuckets import bucket_start
from tests.fakes.slack_api import FakeSlack

TOKEN = "xoxb-bench"
CHANNEL = "C0INCIDENTS"
FIVE = timedelta(minutes=5)


def quiet_day_then_flare(rng: random.Random, quiet: int) -> list[tuple[int, int]]:
    """`quiet` ordinary buckets, then one bucket at many times the usual volume, mostly negative."""
    counts = [(rng.randint(6, 12), rng.randint(0, 2)) for _ in range(quiet)]
    total = rng.randint(6, 12) * 12
    return [*counts, (total, int(total * 0.7))]


def add_brands(factory, groups: int, per_group: int, start: datetime, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    """Group r flares in bucket 287 + r (the one closing at round r's tick); quiet before, nothing after."""
    with factory() as session, session.begin():
        for r in range(groups):
            for i in range(per_group):
                brand = Brand(
                    name=f"ブランド{r}-{i}",
                    keywords=[f"ブランド{r}-{i}"],
                    exclude=[],
                    languages=[],
                    created_at=start,
                    updated_at=start,
                )
                session.add(brand)
                session.flush()
                for j, (total, negative) in enumerate(quiet_day_then_flare(rng, 287 + r)):
                    session.add(
                        Bucket(
                            brand_id=brand.id,
                            start=start + j * FIVE,
                            total=total,
                            negative=negative,
                            reach=total * 100,
                            authors=total,
                        )
                    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def end_to_end(url: str, args: argparse.Namespace, slack: FakeSlack) -> dict[str, list[float]]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    notifier = Notifier(
        build_incident_context, NotifyConfig("http://noroshi.test", (RouteView("slack", CHANNEL),))
    )
    rng = random.Random(11)
    now = datetime(2026, 11, 21, 6, 0, 30, tzinfo=UTC)  # 30 s after a boundary
    start = bucket_start(now, 5) - 288 * FIVE
    add_brands(factory, args.rounds, args.brands, start, rng)
    ticker = DetectionTicker(factory, notifier=notifier)
    warm = time.monotonic()
    ticker.tick(now - FIVE)  # every brand evaluated up to the bucket before its flare, as in live running
    print(f"(warm-up over a day of buckets: {time.monotonic() - warm:.1f} s)", file=sys.stderr)
    channel = SlackChannel(TOKEN, base_url=slack.api_url)
    outbox = OutboxWorker(factory, {"slack": channel}, lambda: now)
    total: list[float] = []
    tick_part: list[float] = []
    for _ in range(args.rounds):
        seen = len(slack.calls_to("chat.postMessage"))
        started = time.monotonic()
        summary = ticker.tick(now)
        ticked = time.monotonic()
        if summary.notifications:  # the scheduler delivers at once after a tick that wrote rows
            outbox.run_once()
        for call in slack.calls_to("chat.postMessage")[seen:]:
            if "thread_ts" not in call.body:
                total.append(call.at + slack.delay_seconds - started)  # Slack's "ok" is back
                tick_part.append(ticked - started)
        now += FIVE  # the next bucket closes
    engine.dispose()
    return {"total": total, "tick": tick_part}


def raw_round_trips(slack: FakeSlack, n: int) -> list[float]:
    client = WebClient(token=TOKEN, base_url=slack.api_url, retry_handlers=[])
    card = build_card(
        {"incident": {"id": 1, "severity": "flame", "status": "triggered"}, "brand": {"name": "x"}}
    )
    times = []
    for _ in range(n):
        started = time.monotonic()
        client.chat_postMessage(channel=CHANNEL, **card)
        times.append(time.monotonic() - started)
    return times


@contextmanager
def database(kind: str, pg: str | None) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            yield url
        return
    admin = normalize_url(pg or "")
    url = create_database(admin, "noroshi_bench")
    try:
        upgrade(url)
        yield url
    finally:
        drop_database(admin, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--brands", type=int, default=2, help="brands flaring per bucket close")
    parser.add_argument("--slack-ms", type=float, default=150.0, help="the Slack-like server's answer delay")
    parser.add_argument("--pg", default=os.environ.get("NOROSHI_TEST_DATABASE_URL"))
    args = parser.parse_args()
    kinds = ["sqlite", *(["postgresql"] if args.pg else [])]

    print(f"`{' '.join(['.venv/bin/python', *sys.argv])}`\n")
    print("| store | path | n | p50 s | p99 s | max s | p99 ÷ raw p99 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for kind in kinds:
        with FakeSlack(token=TOKEN, channels=(CHANNEL,)) as slack, database(kind, args.pg) as url:
            slack.delay_seconds = args.slack_ms / 1000
            result = end_to_end(url, args, slack)
            raw = raw_round_trips(slack, max(20, len(result["total"])))
        raw_p99 = percentile(raw, 0.99)
        rows = [
            ("raw chat.postMessage (baseline)", raw),
            ("bucket close → tick done", result["tick"]),
            ("bucket close → card at Slack", result["total"]),
        ]
        for label, values in rows:
            if not values:
                print(f"| {kind} | {label} | 0 | – | – | – | – |")
                continue
            print(
                f"| {kind} | {label} | {len(values)} | {statistics.median(values):.3f} "
                f"| {percentile(values, 0.99):.3f} | {max(values):.3f} "
                f"| {percentile(values, 0.99) / raw_p99:.1f}× |"
            )
    print(
        f"\n{args.brands} brands flare per bucket close, {args.rounds} closes, "
        f"{args.brands * args.rounds} brands ticked each time; Slack answers after {args.slack_ms:g} ms."
    )
    print("Goal: p99 (bucket close → card at Slack) ≤ 5 s.")


if __name__ == "__main__":
    main()
