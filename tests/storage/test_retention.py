"""Retention: old mentions, links and author sets go in small batches; buckets and incidents stay; ingest
keeps committing while a prune runs (PostgreSQL)."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from alerting.summary import build_incident_context
from api.app import create_app
from api.context import ApiContext
from collectors.ingest import MentionIngestor
from noroshi.cli import app as cli_app
from storage.incidents import Incident, IncidentEvent
from storage.mentions import Bucket, BucketAuthor, Mention, MentionBrand
from storage.retention import PruneReport, prune_mentions
from tests.alerting.incident_rows import NOW as FLAME_NOW
from tests.alerting.incident_rows import add_flame
from tests.helpers import add_brand, add_source, minutes, post

DAY = timedelta(days=1)
RETAIN = timedelta(days=30)


def _count(session: Session, column) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(column.table)) or 0


def _buckets(session: Session) -> dict[tuple[int, datetime], tuple[int, int, int, int]]:
    return {
        (b.brand_id, b.start): (b.total, b.negative, b.reach, b.authors)
        for b in session.scalars(select(Bucket))
    }


def _seed(factory: sessionmaker[Session], scorer, now: datetime) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """Two brands (5- and 15-minute buckets), 40 posts 31–32 days old, 10 posts an hour old, one post
    in the 15-minute bucket that straddles the cutoff (its author set must stay)."""
    with factory() as session, session.begin():
        coffee = add_brand(session, "ノロシ珈琲", ["ノロシ珈琲"], now).id
        tea = add_brand(session, "狼煙ティー", ["狼煙ティー"], now, bucket_minutes=15).id
        source = add_source(session, "push", now).id
    old = [
        post(f"old{i}", now - RETAIN - DAY - minutes(i * 20), "ノロシ珈琲と狼煙ティー", author=f"u{i % 4}")
        for i in range(40)
    ]
    recent = [post(f"new{i}", now - minutes(60 - i), "ノロシ珈琲", author=f"n{i}") for i in range(10)]
    # now = 06:00 UTC, so the cutoff is 06:00 too: 15-minute bucket 05:45–06:00 ends at the cutoff (pruned);
    # a post at cutoff + 1 min lives in bucket 06:00–06:15, which must keep its author rows.
    straddle = [post("edge", now - RETAIN + minutes(1), "狼煙ティー", author="edge")]
    with factory() as session, session.begin():
        MentionIngestor(scorer).ingest(session, source, old + recent + straddle, now)
    return coffee, tea, source


def test_prune_deletes_old_mentions_links_and_author_sets_but_keeps_buckets(factory, scorer, now) -> None:
    coffee, tea, _ = _seed(factory, scorer, now)
    with factory() as session, session.begin():
        before = _buckets(session)
        session.add(
            IncidentEvent(incident_id=_incident(session, coffee, now), at=now, event="opened", actor="x")
        )
    dry = prune_mentions(factory, now, RETAIN, batch_size=7, dry_run=True)
    with factory() as session:
        assert _count(session, Mention.id) == 51  # the dry run deleted nothing
        author_rows_old = session.scalar(
            select(func.count()).select_from(BucketAuthor).where(BucketAuthor.start < now - RETAIN)
        )
    report = prune_mentions(factory, now, RETAIN, batch_size=7)
    assert (report.mentions, report.mention_brands) == (40, 80)
    assert report.bucket_authors == author_rows_old == 80  # every old post alone in its bucket, per brand
    assert (dry.mentions, dry.mention_brands, dry.bucket_authors) == (40, 80, 80)
    assert report.batches == 6 + 12  # ceil(40 / 7) mention batches + ceil(80 / 7) author batches
    with factory() as session:
        remaining = sorted(session.scalars(select(Mention.external_id)))
        assert remaining == sorted(["edge", *(f"new{i}" for i in range(10))])
        assert _count(session, MentionBrand.mention_id) == 11
        assert _buckets(session) == before  # counts, unique authors included, are untouched
        kept_authors = set(session.execute(select(BucketAuthor.brand_id, BucketAuthor.author)))
        assert (tea, "edge") in kept_authors and (coffee, "n0") in kept_authors
        assert not {a for _, a in kept_authors} & {"u0", "u1", "u2", "u3"}
        assert _count(session, Incident.id) == 1 and _count(session, IncidentEvent.id) == 1
    again = prune_mentions(factory, now, RETAIN, batch_size=7)
    assert (again.mentions, again.bucket_authors, again.batches) == (0, 0, 0)


def _incident(session: Session, brand_id: int, now: datetime) -> int:
    incident = Incident(
        brand_id=brand_id, kind="volume", dedup_key="k", status="resolved", severity="warning",
        started_at=now - RETAIN - DAY, last_signal_at=now - RETAIN - DAY, resolved_at=now - RETAIN,
        score=5.0, peak_score=5.0, observed=50.0, expected=10.0, upper=20.0, test="t", evidence={},
        created_at=now - RETAIN - DAY, updated_at=now - RETAIN,
    )  # fmt: skip
    session.add(incident)
    session.flush()
    return incident.id


def test_a_late_post_into_a_pruned_bucket_still_counts(factory, scorer, now) -> None:
    """The documented trade-off: totals stay exact; the author set was pruned, so the author counts again."""
    coffee, _, source = _seed(factory, scorer, now)
    prune_mentions(factory, now, RETAIN)
    at = now - RETAIN - DAY  # the bucket of old0 (author u0)
    with factory() as session:
        total, _, _, authors = _buckets(session)[(coffee, at)]
    with factory() as session, session.begin():
        MentionIngestor(scorer).ingest(session, source, [post("late", at, "ノロシ珈琲", author="u0")], now)
    with factory() as session:
        assert _buckets(session)[(coffee, at)][0] == total + 1
        assert _buckets(session)[(coffee, at)][3] == authors + 1


def test_bad_arguments_are_refused(factory, now) -> None:
    with pytest.raises(ValueError, match="older_than"):
        prune_mentions(factory, now, timedelta(0))
    with pytest.raises(ValueError, match="batch_size"):
        prune_mentions(factory, now, RETAIN, batch_size=0)


def test_ingest_commits_while_a_prune_runs(factory, engine, scorer, now) -> None:
    """Ingest never waits for the prune: it commits between every pair of prune batches, with a lock
    timeout that would fail it if a prune transaction held a lock it needs."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row-level locking is what is being proven; SQLite serialises every writer")
    coffee, _, source = _seed(factory, scorer, now)
    ingestor = MentionIngestor(scorer)
    progress = threading.Condition()
    stop = threading.Event()
    errors: list[BaseException] = []
    ingest_batches = 0

    def ingest_forever() -> None:
        nonlocal ingest_batches
        try:
            while not stop.is_set():
                n = ingest_batches
                posts = [
                    post(f"live{n}-{i}", now + minutes(i), "ノロシ珈琲", author=f"live{i}") for i in range(5)
                ]
                with factory() as session, session.begin():
                    session.execute(text("SET LOCAL lock_timeout = '3s'"))
                    ingestor.ingest(session, source, posts, now)
                with progress:
                    ingest_batches += 1
                    progress.notify_all()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    seen: list[int] = []

    def between_batches(report: PruneReport) -> None:
        # The next prune batch starts only after ingest committed once more since this one did.
        with progress:
            start = ingest_batches
            assert progress.wait_for(lambda: ingest_batches > start or bool(errors), timeout=20)
            seen.append(ingest_batches)

    thread = threading.Thread(target=ingest_forever)
    thread.start()
    try:
        report = prune_mentions(factory, now, RETAIN, batch_size=3, after_batch=between_batches)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors, errors
    assert report.mentions == 40 and report.batches == len(seen) == 14 + 14 + 14
    assert all(a < b for a, b in itertools.pairwise(seen))  # an ingest commit between each pair
    with factory() as session:
        live = session.scalar(select(func.count(Mention.id)).where(Mention.external_id.like("live%")))
        assert live == 5 * ingest_batches
        old = session.scalar(select(func.count(Mention.id)).where(Mention.posted_at < now - RETAIN))
        assert old == 0
        buckets = _buckets(session)
    assert sum(v[0] for (b, s), v in buckets.items() if b == coffee and s >= now) == 5 * ingest_batches


def test_incident_page_works_after_its_mentions_are_pruned(factory, scorer) -> None:
    with factory() as session, session.begin():
        flame = add_flame(session)
    later = FLAME_NOW + timedelta(days=100)
    report = prune_mentions(factory, later, timedelta(days=90))
    assert report.mentions == 18
    with factory() as session:
        incident = session.get(Incident, flame.incident_id)
        assert incident is not None
        context = build_incident_context(session, incident, "http://noroshi.test", later)
    assert context["top_posts"] == [] and context["headline"]["ja"].startswith("ノロシ珈琲の言及が通常の8倍")
    api = ApiContext(factory=factory, ingestor=MentionIngestor(scorer), clock=lambda: later)
    with TestClient(create_app(api)) as client:
        response = client.get(f"/incidents/{flame.incident_id}")
    assert response.status_code == 200
    assert "ノロシ珈琲" in response.text


def test_cli_prune_dry_run_then_prune(factory, scorer, db_url, now, monkeypatch) -> None:
    real_now = datetime.now(now.tzinfo)
    _seed(factory, scorer, real_now)
    monkeypatch.setenv("NOROSHI_DATABASE_URL", db_url)
    runner = CliRunner()
    dry = runner.invoke(cli_app, ["prune", "--older-than-days", "30", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would delete 40 mentions, 80 brand links" in dry.output
    with factory() as session:
        assert _count(session, Mention.id) == 51
    done = runner.invoke(cli_app, ["prune", "--older-than-days", "30"])
    assert done.exit_code == 0 and "deleted 40 mentions" in done.output
    keep = runner.invoke(cli_app, ["prune", "--older-than-days", "0"])
    assert keep.exit_code == 0 and "keep forever" in keep.output
    bad = runner.invoke(cli_app, ["prune", "--older-than-days", "-3"])
    assert bad.exit_code == 2 and "--older-than-days must be 0 or more" in bad.output
    with factory() as session:
        assert _count(session, Mention.id) == 11
