"""Cost of one live detection tick (alerting.tick) against the pure detector on the same histories.

    .venv/bin/python benchmarks/tick_cost.py [--brands 1000] [--days 28] [--stores sqlite,postgresql]
        [--workers 1,2,3] [--warm 2] [--pg URL] [--keep]

Per store, a fresh database: --brands brands with --days of 5-minute buckets each (daily cycle,
negative-binomial noise, negatives, authors; every bucket stored), and each brand's detector state
evaluated up to the bucket before the last: the steady state of a live tick, one bucket per brand.
The clock covers one `DetectionTicker.tick` (claims, bucket reads, detector, expectation writes,
incident lookups, commits). The baseline in the same run is `detect_tick` alone on exactly the
windows the tick evaluates (BucketPoint lists built beforehand, one brand at a time), timed just
before the tick, so the ratio is the tick's overhead over the detector; `detect_tick_arrays` alone
(the same windows as arrays, what the tick passes) is timed alongside and must decide the same.
That tick runs without the history cache (`history_cache=None`: every brand reads its 28 days).
Then, from the same state, one ticker with its history cache (alerting/history_cache.py) ticks
again: cold (an empty cache: every brand read in full), then --warm ticks with one new bucket per
brand added before each (a brand reads only its last hours; about one in twelve is due for its
hourly full read), then one more tick without the cache over the next bucket, to bracket them.
On PostgreSQL, for each N in --workers, N tick processes (benchmarks/tick_cost_workers.py) each keep
one ticker with its cache and tick the same state together: a cold round, then --warm rounds with
one new bucket per brand added before each (brand row locks split the brands): per round the wall
time from "go" to the last one done and, per process, its buckets and full/tail reads.
PostgreSQL needs --pg or NOROSHI_TEST_DATABASE_URL (a throw-away database is created on that server
and dropped, unless --keep); without it only SQLite runs. `--workers ""` skips the multi-process runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, literal, select, text, update  # noqa: E402

from alerting.history_cache import HistoryCache  # noqa: E402
from alerting.tick import DetectionTicker  # noqa: E402
from benchmarks.scratch_db import create_database, drop_database  # noqa: E402
from detectors import BucketPoint, DetectorConfig, DetectorState, detect_tick  # noqa: E402
from detectors.engine import detect_tick_arrays  # noqa: E402
from detectors.series import BucketArrays  # noqa: E402
from storage.brands import Brand  # noqa: E402
from storage.engine import make_engine, make_session_factory, normalize_url, transaction  # noqa: E402
from storage.incidents import DetectorRun  # noqa: E402
from storage.mentions import Bucket  # noqa: E402
from storage.migrations import upgrade  # noqa: E402

FIVE = timedelta(minutes=5)
LAST = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # the bucket the tick evaluates
NOW = LAST + FIVE + timedelta(seconds=1)  # just after it closed
PER_DAY = 288


def brand_series(index: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """total, negative, authors, reach of one brand (deterministic per brand, so it can be rebuilt)."""
    rng = np.random.default_rng(index)
    phase = np.arange(n) * 2 * np.pi / PER_DAY
    level = rng.lognormal(2.0, 1.2)
    lam = rng.gamma(20.0, level * (1 + 0.6 * np.sin(phase - 1.0)) / 20.0)
    total = rng.poisson(lam)
    negative = rng.binomial(total, 0.15)
    authors = np.round(total * 0.9).astype(np.int64)
    return total, negative, authors, total * 100


def bucket_starts(n: int) -> list[datetime]:
    return [LAST - (n - 1 - i) * FIVE for i in range(n)]


def _rows(brand_id: int, index: int, n: int, stamps: list[str]) -> Iterator[tuple[object, ...]]:
    total, negative, authors, reach = brand_series(index, n)
    return zip(
        [brand_id] * n,
        stamps,
        total.tolist(),
        negative.tolist(),
        reach.tolist(),
        authors.tolist(),
        strict=True,
    )


def _copy_pg(engine, brand_ids: list[int], n: int) -> None:  # type: ignore[no-untyped-def]
    stamps = [s.isoformat() for s in bucket_starts(n)]
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            copy_sql = "COPY buckets (brand_id, start, total, negative, reach, authors) FROM STDIN"
            with cursor.copy(copy_sql) as copy:
                for index, brand_id in enumerate(brand_ids):
                    lines = ("\t".join(map(str, row)) for row in _rows(brand_id, index, n, stamps))
                    copy.write("\n".join(lines) + "\n")
        raw.commit()
    finally:
        raw.close()


def _insert_sqlite(engine, brand_ids: list[int], n: int) -> None:  # type: ignore[no-untyped-def]
    stamps = [s.strftime("%Y-%m-%d %H:%M:%S.%f") for s in bucket_starts(n)]  # SQLAlchemy's format
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for index, brand_id in enumerate(brand_ids):
            cursor.executemany(
                "INSERT INTO buckets (brand_id, start, total, negative, reach, authors) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                _rows(brand_id, index, n, stamps),
            )
        raw.commit()
    finally:
        raw.close()


def live_state(n: int) -> DetectorState:
    """Evaluated through the bucket before LAST: the next tick has exactly one bucket to do."""
    return DetectorState(first_seen=LAST - (n - 1) * FIVE, last_at=LAST - FIVE)


def seed(url: str, brands: int, n: int) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        rows = [
            Brand(name=f"brand{i:04d}", keywords=[f"brand{i:04d}"], created_at=NOW, updated_at=NOW)
            for i in range(brands)
        ]
        session.add_all(rows)
        session.flush()
        brand_ids = [row.id for row in rows]
        state = live_state(n).to_json()
        session.add_all(
            DetectorRun(brand_id=b, state=state, evaluated_through=LAST - FIVE, updated_at=NOW)
            for b in brand_ids
        )
    (_copy_pg if url.startswith("postgresql") else _insert_sqlite)(engine, brand_ids, n)
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE buckets"))
    engine.dispose()


def pure_detector_seconds(brands: int, n: int, days: int) -> tuple[float, float]:
    """detect_tick alone on the windows the tick evaluates (the last `days` of buckets ending at LAST),
    given as BucketPoint lists, and detect_tick_arrays alone on the same windows as arrays (what the
    tick passes it)."""
    config = DetectorConfig(history_days=days)
    starts = bucket_starts(n)
    state = live_state(n)
    points_s = arrays_s = 0.0
    for index in range(brands):
        total, negative, authors, reach = brand_series(index, n)
        window = [
            BucketPoint(s, t, g, a, r)
            for s, t, g, a, r in zip(
                starts, total.tolist(), negative.tolist(), authors.tolist(), reach.tolist(), strict=True
            )
        ][-days * PER_DAY :]
        epoch = np.array([int(s.timestamp()) for s in starts], dtype=np.int64)
        arrays = BucketArrays.from_epoch_seconds(
            *(values[-days * PER_DAY :] for values in (epoch, total, negative, authors))
        )
        started = time.perf_counter()
        by_points = detect_tick(window, config, state)
        middle = time.perf_counter()
        by_arrays = detect_tick_arrays(arrays, config, state)
        points_s += middle - started
        arrays_s += time.perf_counter() - middle
        assert by_points == by_arrays, index
    return points_s, arrays_s


def tick_seconds(url: str) -> tuple[float, int, int]:
    """One tick without the history cache (every brand reads its 28 days), evaluating LAST."""
    engine = make_engine(url)
    ticker = DetectionTicker(make_session_factory(engine), history_cache=None)
    started = time.perf_counter()
    summary = ticker.tick(NOW)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, summary.brands, summary.buckets_evaluated


def add_bucket(url: str, start: datetime) -> None:
    """One new bucket per brand at `start` (a copy of the brand's bucket a day earlier: same hour)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(Bucket).from_select(
                ["brand_id", "start", "total", "negative", "reach", "authors"],
                select(
                    Bucket.brand_id,
                    literal(start, type_=Bucket.__table__.c.start.type),
                    Bucket.total,
                    Bucket.negative,
                    Bucket.reach,
                    Bucket.authors,
                ).where(Bucket.start == start - timedelta(days=1)),
            )
        )
    engine.dispose()


@dataclass(frozen=True, slots=True)
class TickRun:
    what: str
    seconds: float
    buckets: int
    full: int  # brands read in full (cached ticks)
    tail: int  # brands that read only their recent tail


def cached_ticks(url: str, n: int, warm: int) -> list[TickRun]:
    """From the state before LAST again: one ticker with its history cache ticks LAST (cold: every
    brand read in full), then `warm` more ticks, one new bucket per brand added before each; then one
    more tick without the cache over the next new bucket, to bracket the cached ones."""
    reset(url, n)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    cache = HistoryCache()
    ticker = DetectionTicker(factory, history_cache=cache)
    runs = []
    for k in range(warm + 2):
        if k:
            add_bucket(url, LAST + k * FIVE)
        uncached = k == warm + 1
        current = DetectionTicker(factory, history_cache=None) if uncached else ticker
        full, tail = cache.full_reads, cache.tail_reads
        started = time.perf_counter()
        summary = current.tick(NOW + k * FIVE)
        seconds = time.perf_counter() - started
        what = "no cache, again" if uncached else ("cache cold" if k == 0 else f"cache warm {k}")
        runs.append(
            TickRun(
                what, seconds, summary.buckets_evaluated, cache.full_reads - full, cache.tail_reads - tail
            )
        )
        print(f"tick {what}: {seconds:.2f} s, load {os.getloadavg()[0]:.1f} {runs[-1]}", flush=True)
    print(f"history cache: {len(cache)} brands, {cache.nbytes() / 1e6:.0f} MB of arrays", flush=True)
    engine.dispose()
    return runs


def reset(url: str, n: int) -> None:
    """Back to 'evaluated through the bucket before LAST', so the next tick redoes the same work."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(update(DetectorRun).values(state=live_state(n).to_json(), evaluated_through=LAST - FIVE))
    engine.dispose()


def measure(store: str, args: argparse.Namespace, folder: Path) -> tuple[list[str], list[str]]:
    """Seed the store, then the pure detector and one tick back to back (same machine load);
    on PostgreSQL also N tick processes at once. Returns table rows (cost, workers)."""
    n = args.days * PER_DAY + 1  # one more than the window: the tick's read starts at its edge
    admin = normalize_url(args.pg) if store == "postgresql" else ""
    url = create_database(admin, "noroshi_tick_bench") if admin else f"sqlite:///{folder / 'tick.db'}"
    cost, split = [], []
    try:
        upgrade(url)
        started = time.perf_counter()
        seed(url, args.brands, n)
        print(f"{store}: seeded {args.brands} × {n} buckets in {time.perf_counter() - started:.0f} s")
        pure, arrays = pure_detector_seconds(args.brands, n, args.days)
        seconds, brands, evaluated = tick_seconds(url)
        print(f"{store}: pure detector {pure:.2f} s, tick {seconds:.2f} s ({evaluated} buckets)", flush=True)
        per = 1000 / args.brands
        cost.append(f"| {store} | detect_tick alone (baseline) | {pure:.2f} | {pure * per:.2f} | 1.00× |")
        cost.append(
            f"| {store} | detect_tick_arrays alone | {arrays:.2f} | {arrays * per:.2f} | "
            f"{arrays / pure:.2f}× |"
        )
        cost.append(
            f"| {store} | tick, no cache ({brands} brands, {evaluated} buckets) | {seconds:.2f} | "
            f"{seconds * per:.2f} | {seconds / pure:.2f}× |"
        )
        runs = cached_ticks(url, n, args.warm)
        for run in runs:
            reads = f"{run.full} full + {run.tail} tail reads" if run.full + run.tail else "all full reads"
            cost.append(
                f"| {store} | tick, {run.what} ({run.buckets} buckets; {reads}) | {run.seconds:.2f} | "
                f"{run.seconds * per:.2f} | {run.seconds / pure:.2f}× |"
            )
        if store == "postgresql" and args.workers:
            # Imported here: the workers module imports this one (constants, add_bucket, reset).
            from benchmarks.tick_cost_workers import rows, worker_rounds

            one = [run.seconds for run in runs if run.what.startswith("cache")]  # cold, warm 1, …
            for count in args.workers:
                split += rows(count, worker_rounds(url, n, count, args.warm), one)
    finally:
        if admin and not args.keep:
            drop_database(admin, url)
        elif args.keep:
            print(f"kept {url}")
    return cost, split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2,3", help="PostgreSQL: tick processes at once")
    parser.add_argument("--pg", default=os.environ.get("NOROSHI_TEST_DATABASE_URL"))
    parser.add_argument("--warm", type=int, default=2, help="cached ticks after the cold one")
    parser.add_argument("--keep", action="store_true", help="keep the databases (and print their URLs)")
    args = parser.parse_args(argv)
    args.workers = [int(w) for w in args.workers.split(",") if w]
    stores = [s for s in args.stores.split(",") if s]
    if "postgresql" in stores and not args.pg:
        print("PostgreSQL is missing (--pg or NOROSHI_TEST_DATABASE_URL): measuring SQLite only")
        stores.remove("postgresql")
    cost, split = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tempfile.mkdtemp()) if args.keep else Path(tmp)
        for store in stores:
            rows, workers = measure(store, args, folder)
            cost += rows
            split += workers
    command = " ".join(
        [".venv/bin/python", "benchmarks/tick_cost.py", *(sys.argv[1:] if argv is None else argv)]
    )
    print(f"\n`{command}`\n")
    print(f"{args.brands} brands × {args.days} days of 5-minute buckets, one bucket per brand to evaluate\n")
    print("| store | what | total s | ms per brand | ÷ detect_tick alone |")
    print("|---|---|---:|---:|---:|")
    print("\n".join(cost))
    if split:
        from benchmarks.tick_cost_workers import HEADER

        print(f"\n{HEADER}")
        print("\n".join(split))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
