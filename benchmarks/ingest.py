"""End-to-end ingest throughput: match → score → store → bucket, on SQLite and PostgreSQL.

Compared in the same run with the negativity scorer alone and with matching alone, so the ratios
say where the time goes. Posts are the bundled demo day (Japanese and English), repeated with new ids.

    .venv/bin/python benchmarks/ingest.py [--posts 20000] [--batch 500] [--pg postgresql://…]

PostgreSQL is measured when --pg or NOROSHI_TEST_DATABASE_URL is given (a throw-away database is
created and dropped on that server).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from collectors.ingest import MentionIngestor
from collectors.matching import BrandMatcher, BrandRule
from collectors.negativity import NegativityScorer
from collectors.posts import RawPost
from collectors.sources.demo import DEMO_BRAND, demo_posts_path
from storage.brands import Brand
from storage.engine import make_engine, make_session_factory, normalize_url
from storage.migrations import upgrade
from storage.sources import Source


def load_posts(count: int) -> list[RawPost]:
    base = []
    opener = __import__("gzip").open if str(demo_posts_path()).endswith(".gz") else open
    with opener(demo_posts_path(), "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            base.append(
                RawPost(
                    external_id=str(row["id"]),
                    posted_at=datetime.fromisoformat(row["posted_at"]),
                    text=row["text"],
                    author=row.get("author"),
                    author_followers=row.get("followers"),
                    reposts=row.get("reposts"),
                    url=row.get("url"),
                    lang=row.get("lang"),
                )
            )
    start = datetime(2026, 11, 1, tzinfo=UTC)
    posts = []
    for i in range(count):
        p = base[i % len(base)]
        posts.append(replace(p, external_id=f"{i}", posted_at=start + timedelta(seconds=i * 3)))
    return posts


def brand_rules() -> list[dict[str, object]]:
    brands = [
        {
            "name": DEMO_BRAND["name"],
            "keywords": list(DEMO_BRAND["keywords"]),
            "exclude": list(DEMO_BRAND.get("exclude", [])),
        }
    ]
    for i in range(99):
        brands.append(
            {"name": f"brand{i}", "keywords": [f"ブランド{i}号", f"brand{i}x", f"#tag{i}"], "exclude": []}
        )
    return brands


def bench_store(url: str, posts: list[RawPost], batch: int, scorer: NegativityScorer) -> float:
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    now = datetime.now(UTC)
    with factory() as session, session.begin():
        for b in brand_rules():
            session.add(Brand(**b, languages=[], created_at=now, updated_at=now))
        session.add(Source(name="bench", kind="push", settings={}, created_at=now))
    ingestor = MentionIngestor(scorer)
    started = time.perf_counter()
    for i in range(0, len(posts), batch):
        with factory() as session, session.begin():
            ingestor.ingest(session, 1, posts[i : i + batch], now)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return len(posts) / elapsed


def bench_scorer(posts: list[RawPost], batch: int, scorer: NegativityScorer) -> float:
    texts = [p.text for p in posts]
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        scorer.score_batch(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - started)


def bench_matcher(posts: list[RawPost]) -> float:
    matcher = BrandMatcher(
        [
            BrandRule(brand_id=i + 1, keywords=b["keywords"], exclude=b["exclude"], languages=[])
            for i, b in enumerate(brand_rules())
        ]
    )
    started = time.perf_counter()
    for p in posts:
        matcher.match(p.text, p.lang)
    return len(posts) / (time.perf_counter() - started)


def median_of(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    return statistics.median(fn() for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", default=os.environ.get("NOROSHI_TEST_DATABASE_URL"))
    args = parser.parse_args()

    posts = load_posts(args.posts)
    scorer = NegativityScorer()
    scorer.score_batch([p.text for p in posts[:200]])  # warm-up
    rows = [
        ("negativity scorer alone", median_of(lambda: bench_scorer(posts, args.batch, scorer), args.runs)),
        ("keyword matching alone (100 brands)", median_of(lambda: bench_matcher(posts), args.runs)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(100))
        rows.append(
            (
                "end to end, SQLite (file, WAL)",
                median_of(
                    lambda: bench_store(
                        f"sqlite:///{tmp}/bench{next(counter)}.db", posts, args.batch, scorer
                    ),
                    args.runs,
                ),
            )
        )
    if args.pg:
        admin = normalize_url(args.pg)
        admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")

        def pg_run() -> float:
            name = f"noroshi_bench_{uuid.uuid4().hex[:8]}"
            with admin_engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                return bench_store(
                    make_url(admin).set(database=name).render_as_string(hide_password=False),
                    posts,
                    args.batch,
                    scorer,
                )
            finally:
                with admin_engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        rows.append(("end to end, PostgreSQL (loopback)", median_of(pg_run, args.runs)))
    else:
        print("PostgreSQL: skipped (give --pg URL or NOROSHI_TEST_DATABASE_URL)")

    scorer_rate = rows[0][1]
    print(f"\nIngest throughput, {args.posts} posts, batches of {args.batch}, median of {args.runs} runs\n")
    print("| path | posts/s | vs scorer alone |")
    print("| --- | ---: | ---: |")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} | {rate / scorer_rate:.2f}× |")
    print(
        f"\ncommand: .venv/bin/python benchmarks/ingest.py --posts {args.posts} --batch {args.batch} "
        f"--runs {args.runs}" + (" --pg $NOROSHI_TEST_DATABASE_URL" if args.pg else "")
    )


if __name__ == "__main__":
    main()
