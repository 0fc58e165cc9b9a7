"""A collect run: cursor and mentions commit together; failures go to health with backoff; others go on."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from collectors.ingest import MentionIngestor
from collectors.jobs import SourceRunner, backoff_delay
from storage.mentions import Mention
from storage.sources import Source
from tests.helpers import add_brand, add_source


def _write_jsonl(path, rows) -> None:  # type: ignore[no-untyped-def]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_replay_source_resumes_from_its_cursor_without_loss_or_repeat(factory, scorer, now, tmp_path) -> None:
    rows = [
        {
            "id": str(i),
            "posted_at": (now - timedelta(minutes=60 - i)).isoformat(),
            "text": f"ノロシ珈琲 {i}",
            "author": f"u{i}",
            "followers": i,
            "reposts": 0,
            "url": None,
            "lang": "ja",
        }
        for i in range(60)
    ]
    path = tmp_path / "posts.jsonl"
    _write_jsonl(path, rows)
    with factory() as session, session.begin():
        add_brand(session, "ノロシ珈琲", ["ノロシ珈琲"], now)
        source_id = add_source(
            session,
            "replay",
            now,
            kind="replay",
            settings={"path": str(path), "speed": 60.0, "time_mode": "original"},
        ).id
    runner = SourceRunner(factory, MentionIngestor(scorer))
    seen = []
    for step in range(0, 200, 10):  # a fresh runner each time: the cursor alone carries the position
        outcome = SourceRunner(factory, MentionIngestor(scorer)).run(source_id, now + timedelta(seconds=step))
        assert outcome.ok, outcome.error
        seen.append(outcome.stored)
    assert sum(seen) == 60
    with factory() as session:
        assert session.scalar(select(func.count(Mention.id))) == 60
        source = session.get(Source, source_id)
        assert source.exhausted and source.watermark is None and source.last_success_at is not None
    assert runner.run(source_id, now + timedelta(hours=1)).skipped_run


def test_a_failing_source_backs_off_and_does_not_stop_the_others(factory, scorer, now, tmp_path) -> None:
    good = tmp_path / "good.jsonl"
    _write_jsonl(good, [{"id": "1", "posted_at": now.isoformat(), "text": "ノロシ珈琲"}])
    with factory() as session, session.begin():
        add_brand(session, "ノロシ珈琲", ["ノロシ珈琲"], now)
        broken = add_source(
            session,
            "broken",
            now,
            kind="rss",
            interval_seconds=60,
            settings={"url": "http://127.0.0.1:9/feed.xml", "timeout_seconds": 1},
        ).id
        fine = add_source(
            session, "fine", now, kind="replay", settings={"path": str(good), "time_mode": "original"}
        ).id
    runner = SourceRunner(factory, MentionIngestor(scorer), max_backoff_seconds=600)
    first = runner.run(broken, now)
    assert not first.ok and "127.0.0.1:9" in (first.error or "")
    assert runner.run(fine, now).stored == 1
    assert runner.run(broken, now + timedelta(seconds=30)).skipped_run  # still backing off
    runner.run(broken, now + timedelta(seconds=61))
    with factory() as session:
        source = session.get(Source, broken)
        assert source.consecutive_failures == 2
        assert source.next_run_at == now + timedelta(seconds=61) + timedelta(seconds=120)
        assert source.last_error and source.last_success_at is None


def test_backoff_grows_and_is_capped() -> None:
    delays = [backoff_delay(60, n, 600).total_seconds() for n in range(1, 7)]
    assert delays == [60, 120, 240, 480, 600, 600]
