"""match → score → store → bucket, on SQLite and PostgreSQL, with idempotence and exact counts."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from collectors.buckets import rebuild_buckets
from collectors.ingest import MentionIngestor
from storage.mentions import Bucket, Mention, MentionBrand
from tests.helpers import add_brand, add_source, minutes, post


def _buckets(session: Session, brand_id: int) -> dict[datetime, tuple[int, int, int, int]]:
    rows = session.scalars(select(Bucket).where(Bucket.brand_id == brand_id).order_by(Bucket.start))
    return {b.start: (b.total, b.negative, b.reach, b.authors) for b in rows}


def _setup(factory: sessionmaker[Session], now: datetime) -> tuple[int, int, int]:
    with factory() as session, session.begin():
        coffee = add_brand(session, "ノロシ珈琲", ["ノロシ珈琲", "Noroshi Coffee"], now)
        tea = add_brand(session, "狼煙ティー", ["狼煙ティー"], now, bucket_minutes=15)
        source = add_source(session, "push", now)
        return coffee.id, tea.id, source.id


def test_matched_posts_are_stored_scored_and_counted(factory, scorer, now) -> None:
    coffee, tea, source = _setup(factory, now)
    ingestor = MentionIngestor(scorer)
    posts = [
        post("1", now, "ノロシ珈琲の新作ラテ、最高に美味しい！", author="a", followers=100),
        post("2", now + minutes(1), "ノロシ珈琲の店員の態度が最悪。二度と行かない", author="b", followers=50),
        post("3", now + minutes(2), "今日は天気がいい", author="c"),
        post("4", now + minutes(6), "Noroshi Coffee and 狼煙ティー both today", author="a", followers=100),
    ]
    with factory() as session, session.begin():
        report = ingestor.ingest(session, source, posts, now)
    assert report.statuses == ["stored", "stored", "unmatched", "stored"]
    assert report.brands[3] == sorted([coffee, tea])
    assert (report.stored, report.unmatched, report.duplicates) == (3, 1, 0)
    with factory() as session:
        assert session.scalar(select(func.count(Mention.id))) == 3
        negative = {m.external_id: m.negative for m in session.scalars(select(Mention))}
        assert negative["2"] and not negative["1"]
        coffee_buckets = _buckets(session, coffee)
        tea_buckets = _buckets(session, tea)
    # 5-minute buckets for coffee: posts 1 and 2 share one (two authors, one negative), post 4 the next.
    assert list(coffee_buckets.values()) == [(2, 1, 150, 2), (1, 0, 100, 1)]
    assert next(iter(coffee_buckets)) == now
    # 15-minute buckets for tea: post 4 alone.
    assert list(tea_buckets.values()) == [(1, 0, 100, 1)]


def test_ingesting_the_same_posts_twice_changes_nothing(factory, scorer, now) -> None:
    coffee, _, source = _setup(factory, now)
    ingestor = MentionIngestor(scorer)
    posts = [post(str(i), now + minutes(i), f"ノロシ珈琲 {i}", author=f"u{i % 3}") for i in range(12)]
    with factory() as session, session.begin():
        ingestor.ingest(session, source, posts, now)
    with factory() as session:
        before = _buckets(session, coffee)
    with factory() as session, session.begin():
        again = ingestor.ingest(session, source, [*posts, posts[0]], now)
    assert again.stored == 0 and again.duplicates == 13
    with factory() as session:
        assert _buckets(session, coffee) == before
        assert session.scalar(select(func.count(Mention.id))) == 12


def test_duplicates_within_one_batch_are_stored_once(factory, scorer, now) -> None:
    coffee, _, source = _setup(factory, now)
    with factory() as session, session.begin():
        report = MentionIngestor(scorer).ingest(
            session, source, [post("x", now, "ノロシ珈琲"), post("x", now, "ノロシ珈琲")], now
        )
    assert report.statuses == ["stored", "duplicate"]
    with factory() as session:
        assert _buckets(session, coffee)[now][0] == 1


def test_rebuild_recomputes_the_same_buckets(factory, scorer, now) -> None:
    coffee, tea, source = _setup(factory, now)
    posts = [
        post(
            str(i),
            now + minutes(i * 3),
            "ノロシ珈琲と狼煙ティー、最悪" if i % 4 == 0 else "ノロシ珈琲",
            author=f"u{i % 5}",
            followers=i,
        )
        for i in range(40)
    ]
    with factory() as session, session.begin():
        MentionIngestor(scorer).ingest(session, source, posts, now)
    with factory() as session:
        incremental = {b: _buckets(session, b) for b in (coffee, tea)}
    with factory() as session, session.begin():
        session.execute(Bucket.__table__.update().values(total=0))  # corrupt, then rebuild
        counted = rebuild_buckets(session)
    assert counted == 40 + 10
    with factory() as session:
        assert {b: _buckets(session, b) for b in (coffee, tea)} == incremental


def test_concurrent_writers_keep_exact_counts(factory, scorer, now) -> None:
    """Two transactions adding to the same buckets at once must not overwrite each other's counts."""
    coffee, _, source = _setup(factory, now)
    ingestor = MentionIngestor(scorer)
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for batch in range(5):
                posts = [
                    post(
                        f"{offset}-{batch}-{i}", now + minutes(i % 10), "ノロシ珈琲", author=f"w{offset}-{i}"
                    )
                    for i in range(20)
                ]
                with factory() as session, session.begin():
                    ingestor.ingest(session, source, posts, now)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with factory() as session:
        buckets = _buckets(session, coffee)
        links = session.scalar(select(func.count()).select_from(MentionBrand))
    assert links == 300
    assert sum(v[0] for v in buckets.values()) == 300
    assert sum(v[3] for v in buckets.values()) == 3 * 20  # each writer's 20 authors, once per bucket
