"""The API latency benchmark's database: N brands × D days of 5-minute buckets, incidents, one read key.

Buckets are generated inside the database (PostgreSQL `generate_series`, SQLite a recursive CTE). Two
physical layouts (--layout): `time` (the default) writes each 5-minute step for all brands before the
next, as ingest does in production, so one brand's 30 days are spread over ~8,640 table pages; `brand`
writes one brand after another (primary-key order), the best case for reading a brand's range through
the primary key, which production tables never have. A finished build is cached: SQLite as a file
under benchmarks/.cache, PostgreSQL as a database named after the size; both are built under a
temporary name and renamed at the end, so an interrupted build is never reused.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from api.auth import create_api_key
from storage.brands import Brand
from storage.engine import make_engine, make_session_factory, normalize_url
from storage.incidents import Incident
from storage.mentions import Bucket
from storage.migrations import upgrade
from storage.timebuckets import EPOCH, bucket_start

CACHE = Path(__file__).resolve().parent / ".cache"
STEP_SECONDS = 300
# Deterministic counts per (brand, bucket): a cheap hash, identical on both stores.
_COLUMNS = "brand_id, start, total, negative, reach, authors, expected, upper, baseline_share"
_PG_BUCKETS = f"""
INSERT INTO buckets ({_COLUMNS})
SELECT :brand, to_timestamp(CAST(:first AS bigint) + i * 300), c.total, c.total / 8, c.total * 120, c.total,
       :expected, :upper, 0.08
FROM generate_series(0, :n - 1) AS i,
     LATERAL (SELECT ((i * 7919 + :brand * 104729) % 23)::int AS total) AS c
"""
_SQLITE_BUCKETS = f"""
INSERT INTO buckets ({_COLUMNS})
WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < :n)
SELECT :brand, strftime('%Y-%m-%d %H:%M:%S', :first + i * 300, 'unixepoch') || '.000000',
       (i * 7919 + :brand * 104729) % 23, ((i * 7919 + :brand * 104729) % 23) / 8,
       ((i * 7919 + :brand * 104729) % 23) * 120, (i * 7919 + :brand * 104729) % 23,
       :expected, :upper, 0.08
FROM s
"""
# The time layout: one day per statement, every brand's bucket for a step before the next step.
_PG_BUCKETS_BY_TIME = f"""
INSERT INTO buckets ({_COLUMNS})
SELECT b, to_timestamp(CAST(:first AS bigint) + i * 300), c.total, c.total / 8, c.total * 120, c.total,
       5.0 + b % 20, (5.0 + b % 20) * 1.8 + 4, 0.08
FROM generate_series(:i0, :i1 - 1) AS i, generate_series(1, :brands) AS b,
     LATERAL (SELECT ((i * 7919 + b * 104729) % 23)::int AS total) AS c
ORDER BY i, b
"""
_SQLITE_BUCKETS_BY_TIME = f"""
INSERT INTO buckets ({_COLUMNS})
WITH RECURSIVE s(i) AS (SELECT :i0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < :i1),
     br(b) AS (SELECT 1 UNION ALL SELECT b + 1 FROM br WHERE b < :brands)
SELECT b, strftime('%Y-%m-%d %H:%M:%S', :first + i * 300, 'unixepoch') || '.000000',
       (i * 7919 + b * 104729) % 23, ((i * 7919 + b * 104729) % 23) / 8,
       ((i * 7919 + b * 104729) % 23) * 120, (i * 7919 + b * 104729) % 23,
       5.0 + b % 20, (5.0 + b % 20) * 1.8 + 4, 0.08
FROM s, br
ORDER BY i, b
"""


def data_end(engine: Engine) -> datetime:
    """The end of the newest bucket (requests ask for ranges ending here, however old the cache is)."""
    with make_session_factory(engine)() as session:
        last = session.scalar(select(func.max(Bucket.start)).where(Bucket.brand_id == 1))
    assert last is not None, "benchmark database has no buckets"
    return last + timedelta(seconds=STEP_SECONDS)


def _fill_by_brand(conn: Connection, brands: int, first: int, n: int, started: float) -> None:
    pg = conn.dialect.name == "postgresql"
    statement = text(_PG_BUCKETS if pg else _SQLITE_BUCKETS)
    for b in range(1, brands + 1):
        expected = 5.0 + b % 20
        params = {"brand": b, "first": first, "n": n, "expected": expected, "upper": expected * 1.8 + 4}
        conn.execute(statement, params)
        if b % 100 == 0:
            print(f"  buckets: {b}/{brands} brands, {time.perf_counter() - started:.0f} s", flush=True)


def _fill_by_time(conn: Connection, brands: int, first: int, n: int, started: float) -> None:
    pg = conn.dialect.name == "postgresql"
    statement = text(_PG_BUCKETS_BY_TIME if pg else _SQLITE_BUCKETS_BY_TIME)
    per_day = 86400 // STEP_SECONDS
    for i0 in range(0, n, per_day):
        conn.execute(statement, {"first": first, "i0": i0, "i1": min(n, i0 + per_day), "brands": brands})
        if (i0 // per_day) % 10 == 9:
            print(
                f"  buckets: day {i0 // per_day + 1}/{n // per_day}, {time.perf_counter() - started:.0f} s",
                flush=True,
            )


def _fill(engine: Engine, brands: int, days: int, incidents: int, layout: str, log: list[str]) -> None:
    now = datetime.now(UTC)
    end = bucket_start(now, 5)
    n = days * 86400 // STEP_SECONDS
    first = int((end - EPOCH).total_seconds()) - n * STEP_SECONDS
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        session.execute(
            insert(Brand),
            [
                {
                    "name": f"brand {b}",
                    "keywords": [f"brand{b}"],
                    "exclude": [],
                    "languages": [],
                    "timezone": "Asia/Tokyo",
                    "bucket_minutes": 5,
                    "sensitivity": "normal",
                    "locale": "ja",
                    "created_at": now,
                    "updated_at": now,
                }
                for b in range(1, brands + 1)
            ],
        )
    started = time.perf_counter()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL synchronous_commit = off"))
        if layout == "time":
            _fill_by_time(conn, brands, first, n, started)
        else:
            _fill_by_brand(conn, brands, first, n, started)
    _add_incidents(factory, brands, incidents, end)
    log.append(f"{brands * n:,} buckets + {incidents:,} incidents in {time.perf_counter() - started:.0f} s")


def _add_incidents(factory, brands: int, count: int, end: datetime) -> None:  # type: ignore[no-untyped-def]
    statuses = ["resolved"] * 7 + ["triggered"] * 2 + ["acknowledged"]
    rows = []
    for i in range(count):
        at = end - timedelta(minutes=5 * (count - i) * 5)
        status = statuses[i % len(statuses)]
        rows.append(
            {
                "brand_id": 1 + (i * 37) % brands,
                "kind": ("volume", "negativity")[i % 2],
                "dedup_key": f"bench:{i}",
                "status": status,
                "severity": "warning",
                "started_at": at,
                "last_signal_at": at,
                "resolved_at": at + timedelta(hours=2) if status == "resolved" else None,
                "score": 6.5,
                "peak_score": 7.0,
                "observed": 90.0,
                "expected": 20.0,
                "upper": 45.0,
                "negative_share": 0.4,
                "baseline_share": 0.08,
                "test": "nb_tail_1h",
                "evidence": {"window": "1h"},
                "created_at": at,
                "updated_at": at,
            }
        )
    with factory() as session, session.begin():
        session.execute(insert(Incident), rows)


def _suffix(layout: str) -> str:
    return "" if layout == "brand" else f"_{layout}"  # the brand-layout caches keep their old names


def sqlite_database(brands: int, days: int, incidents: int, layout: str, log: list[str]) -> str:
    CACHE.mkdir(exist_ok=True)
    final = CACHE / f"api_latency_{brands}b_{days}d_{incidents}i{_suffix(layout)}.db"
    if final.exists():
        log.append(f"SQLite: reused {final.name} ({final.stat().st_size / 1e9:.1f} GB)")
        upgrade(f"sqlite:///{final}")
        return f"sqlite:///{final}"
    building = final.with_suffix(".building")
    for leftover in CACHE.glob(building.name + "*"):
        leftover.unlink()
    url = f"sqlite:///{building}"
    upgrade(url)
    engine = make_engine(url)
    _fill(engine, brands, days, incidents, layout, log)
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    os.replace(building, final)
    log[-1] = "SQLite: built " + log[-1]
    return f"sqlite:///{final}"


def pg_database(admin_url: str, brands: int, days: int, incidents: int, layout: str, log: list[str]) -> str:
    name = f"noroshi_bench_api_{brands}b_{days}d_{incidents}i{_suffix(layout)}"
    admin = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_building" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}_building"'))
    url_of = lambda db: make_url(normalize_url(admin_url)).set(database=db).render_as_string(False)  # noqa: E731
    if not exists:
        upgrade(url_of(f"{name}_building"))
        engine = make_engine(url_of(f"{name}_building"))
        _fill(engine, brands, days, incidents, layout, log)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}_building" RENAME TO "{name}"'))
        log[-1] = "PostgreSQL: built " + log[-1]
    else:
        log.append(f"PostgreSQL: reused database {name}")
    admin.dispose()
    url = url_of(name)
    upgrade(url)  # a cache built before a newer migration still matches the code under test
    return url


def read_key(url: str) -> str:
    """A fresh read-scope key for this run (the secret is never stored)."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session, session.begin():
        _, secret = create_api_key(session, "api-latency-bench", ["read"], datetime.now(UTC))
    engine.dispose()
    return secret
