"""Scale-out on PostgreSQL: sustained ingest and the detection tick with 1, 2 and 3 workers.

Per worker count N, on a fresh database: --brands brands and --sources replay sources holding --posts
generated posts (each names one random brand), all available at once so the workers run against a
backlog. N real `noroshi worker` processes collect them (source leases split the sources); posts/s is
measured from the moment all N workers are up (their heartbeat rows) until every post is stored.
Then N tick processes run one detection tick at once over the bucket just collected (brand row locks
split the brands); tick time is from "go" to the last one finishing. The 1-worker run is the baseline.

    .venv/bin/python benchmarks/scale_out.py [--workers 1,2,3] [--brands 1000] [--sources 50]
        [--posts 40000] [--pg URL]

Needs PostgreSQL (--pg or NOROSHI_TEST_DATABASE_URL); says so and exits otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from alerting.tick import DetectionTicker  # noqa: E402
from benchmarks.scratch_db import create_database, drop_database  # noqa: E402
from storage.brands import Brand  # noqa: E402
from storage.engine import make_engine, make_session_factory, normalize_url, transaction  # noqa: E402
from storage.leases import Worker  # noqa: E402
from storage.mentions import Mention  # noqa: E402
from storage.migrations import upgrade  # noqa: E402
from storage.sources import Source  # noqa: E402
from storage.timebuckets import bucket_start  # noqa: E402

WORDS = ("新作を飲んだ", "また行きたい", "値上げかな", "最悪 二度と買わない", "good coffee", "slow service")


def _open_bucket_start() -> datetime:
    """The current 5-minute bucket, once at least 60 s of it remain (the workers' one tick at start,
    before the detect interval of a day, must find it still open)."""
    now = datetime.now(UTC)
    start = bucket_start(now, 5)
    if start + timedelta(minutes=5) - now < timedelta(seconds=60):
        time.sleep((start + timedelta(minutes=5) - now).total_seconds() + 1)
        return bucket_start(datetime.now(UTC), 5)
    return start


def _seed(url: str, brands: int, sources: int, posts: int, folder: Path) -> datetime:
    """Brands, sources and their post files; all posts sit in the open bucket (nothing closes
    during ingest, so the workers' own ticks find nothing and the tick phase measures one bucket)."""
    rng = random.Random(1)
    start = _open_bucket_start()
    span = max(1.0, (datetime.now(UTC) - start).total_seconds() - 1)
    names = [f"ブランド{i:04d}" for i in range(brands)]
    files = [(folder / f"s{i}.jsonl").open("w", encoding="utf-8") for i in range(sources)]
    times = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(posts))
    for i, posted in enumerate(times):
        body = f"{rng.choice(names)} {rng.choice(WORDS)}"
        row = {
            "id": str(i),
            "posted_at": posted.isoformat(),
            "text": body,
            "author": f"u{rng.randint(1, 10**6)}",
        }
        files[i % sources].write(json.dumps(row, ensure_ascii=False) + "\n")
    for handle in files:
        handle.close()
    now = datetime.now(UTC)
    factory = make_session_factory(make_engine(url))
    with transaction(factory) as session:
        for name in names:
            session.add(
                Brand(name=name, keywords=[name], exclude=[], languages=[], created_at=now, updated_at=now)
            )
        for i in range(sources):
            settings = {
                "path": str(folder / f"s{i}.jsonl"),
                "time_mode": "original",
                "speed": 1e9,
                "batch_max": 500,
            }
            session.add(
                Source(name=f"s{i}", kind="replay", settings=settings, interval_seconds=1, created_at=now)
            )
    return start


def _spawn_workers(url: str, count: int) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NOROSHI_DATABASE_URL": url,
        "NOROSHI_DETECT_INTERVAL_SECONDS": "86400",  # the tick is measured on its own below
        "NOROSHI_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "noroshi.cli", "worker"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}  # exits are checked instead
    return [subprocess.Popen(command, cwd=ROOT, env=env, **quiet) for _ in range(count)]


def _measure_ingest(url: str, count: int, posts: int) -> tuple[float, int]:
    """posts/s once all workers are up, and how many posts were stored before that moment."""
    factory = make_session_factory(make_engine(url))

    def scalar(query):  # type: ignore[no-untyped-def]
        with factory() as session:
            return session.scalar(query)

    workers = _spawn_workers(url, count)
    try:
        while scalar(select(func.count()).select_from(Worker)) < count:
            time.sleep(0.2)
        t0, stored0 = time.monotonic(), scalar(select(func.count(Mention.id)))
        while scalar(select(func.count(Mention.id))) < posts:
            if any(w.poll() is not None for w in workers):
                raise SystemExit("a worker exited during the benchmark")
            time.sleep(0.2)
        elapsed = time.monotonic() - t0
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    return (posts - stored0) / elapsed, stored0


def tick_worker(url: str, at: str) -> None:
    """One tick process: import and connect, say READY, wait for GO, tick once, report."""
    ticker = DetectionTicker(make_session_factory(make_engine(url)))
    print("READY", flush=True)
    sys.stdin.readline()
    started = time.monotonic()
    summary = ticker.tick(datetime.fromisoformat(at))
    print(
        json.dumps(
            {
                "buckets": summary.buckets_evaluated,
                "skipped": summary.skipped,
                "seconds": time.monotonic() - started,
            }
        ),
        flush=True,
    )


def _measure_tick(url: str, count: int, at: datetime) -> tuple[float, list[dict[str, float]]]:
    command = [sys.executable, __file__, "--tick-worker", url, at.isoformat()]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
    started = time.monotonic()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("GO\n")
        proc.stdin.flush()
    reports = [json.loads(proc.stdout.readline()) for proc in procs if proc.stdout is not None]
    elapsed = time.monotonic() - started
    for proc in procs:
        proc.wait(timeout=30)
    return elapsed, reports


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--posts", type=int, default=40000)
    parser.add_argument("--pg", default=os.environ.get("NOROSHI_TEST_DATABASE_URL"))
    parser.add_argument("--tick-worker", nargs=2, metavar=("URL", "AT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tick_worker:
        tick_worker(*args.tick_worker)
        return
    if not args.pg:
        raise SystemExit("PostgreSQL is missing: pass --pg URL or set NOROSHI_TEST_DATABASE_URL")
    admin = normalize_url(args.pg)
    rows = []
    for count in (int(n) for n in args.workers.split(",")):
        url = create_database(admin, "noroshi_scale_bench")
        upgrade(url)
        try:
            with tempfile.TemporaryDirectory() as folder:
                start = _seed(url, args.brands, args.sources, args.posts, Path(folder))
                rate, before = _measure_ingest(url, count, args.posts)
                # The tick's clock is passed in: "just after the bucket closed", whatever the wall says.
                tick_seconds, reports = _measure_tick(url, count, start + timedelta(minutes=5, seconds=1))
        finally:
            drop_database(admin, url)
        buckets = sum(int(r["buckets"]) for r in reports)
        rows.append((count, rate, before, tick_seconds, buckets, [int(r["buckets"]) for r in reports]))
        print(
            f"workers={count}: {rate:,.0f} posts/s, tick {tick_seconds:.1f} s ({buckets} buckets)", flush=True
        )
    base_rate, base_tick = rows[0][1], rows[0][3]
    print(f"\n`{' '.join(['.venv/bin/python', *sys.argv])}`\n")
    print(
        "| workers | ingest posts/s | vs 1 worker | detection tick (s) | vs 1 worker "
        "| buckets evaluated (per worker) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | --- |")
    for count, rate, _, tick_seconds, buckets, split in rows:
        print(
            f"| {count} | {rate:,.0f} | {rate / base_rate:.2f}× | {tick_seconds:.1f} | "
            f"{base_tick / tick_seconds:.2f}× faster | {buckets} ({' + '.join(map(str, split))}) |"
        )


if __name__ == "__main__":
    main()
