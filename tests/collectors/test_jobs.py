"""A collect run: cursor and mentions commit together; failures go to health with backoff; others go on."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from sqlalchemy import func, select

from collectors.ingest import MentionIngestor
from collectors.jobs import SourceRunner, backoff_delay
from storage.leases import claim_source
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


def test_a_source_leased_by_a_live_worker_is_skipped_and_taken_over_after_the_lease(
    factory, scorer, now, tmp_path
) -> None:
    path = tmp_path / "posts.jsonl"
    _write_jsonl(path, [{"id": "1", "posted_at": now.isoformat(), "text": "ノロシ珈琲"}])
    with factory() as session, session.begin():
        add_brand(session, "ノロシ珈琲", ["ノロシ珈琲"], now)
        source = add_source(
            session, "feed", now, kind="replay", settings={"path": str(path), "time_mode": "original"}
        ).id
    with factory() as session, session.begin():  # another worker claimed it, then died
        assert claim_source(session, source, "dead-worker", now, timedelta(seconds=60))
    runner = SourceRunner(factory, MentionIngestor(scorer), owner="survivor", lease_seconds=60)
    assert runner.run(source, now + timedelta(seconds=59)).skipped_run  # its lease is still live
    taken = runner.run(source, now + timedelta(seconds=60))
    assert taken.ok and taken.stored == 1
    with factory() as session:
        row = session.get(Source, source)
        assert row.lease_owner is None and row.lease_expires_at is None  # released with the commit
        assert row.last_run_at == now + timedelta(seconds=60)
    # The scheduler's gap: a source some worker ran recently is not run again by another one.
    gap = timedelta(seconds=30)
    assert runner.run(source, now + timedelta(seconds=70), min_gap=gap).skipped_run


class _GatedFeed(BaseHTTPRequestHandler):
    """An RSS feed that answers only when the test opens the gate (a slow fetch)."""

    asked = threading.Event()
    gate = threading.Event()
    body = b""

    def do_GET(self) -> None:
        type(self).asked.set()
        type(self).gate.wait(20)
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: object) -> None:
        pass


def test_a_worker_that_lost_its_lease_mid_fetch_stores_nothing(factory, scorer, now) -> None:
    """Worker A's fetch outlives its lease; B takes the source over. A's late commit is refused (it
    could move the cursor back or store a second copy); B's run stores the post once."""
    stamp = now.strftime("%a, %d %b %Y %H:%M:%S +0000")
    item = f"<item><guid>p1</guid><title>ノロシ珈琲 最高</title><pubDate>{stamp}</pubDate></item>"
    _GatedFeed.body = f'<?xml version="1.0"?><rss version="2.0"><channel>{item}</channel></rss>'.encode()
    _GatedFeed.asked.clear()
    _GatedFeed.gate.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GatedFeed)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        with factory() as session, session.begin():
            add_brand(session, "ノロシ珈琲", ["ノロシ珈琲"], now)
            url = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
            source = add_source(session, "rss", now, kind="rss", settings={"url": url}).id
        http = httpx.Client(timeout=20)
        a = SourceRunner(factory, MentionIngestor(scorer), http=http, owner="a", lease_seconds=30)
        b = SourceRunner(factory, MentionIngestor(scorer), http=http, owner="b", lease_seconds=30)
        with ThreadPoolExecutor(2) as pool:
            slow = pool.submit(a.run, source, now)
            assert _GatedFeed.asked.wait(20)
            late = pool.submit(b.run, source, now + timedelta(seconds=31))  # A's lease has run out
            time.sleep(0.3)  # B is claimed and fetching too
            _GatedFeed.gate.set()
            first, second = slow.result(timeout=30), late.result(timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    assert not first.ok and first.error == "lease lost"
    assert second.ok and second.stored == 1
    with factory() as session:
        assert session.scalar(select(func.count(Mention.id))) == 1
        row = session.get(Source, source)
        assert row.lease_owner is None and row.last_run_at == now + timedelta(seconds=31)
        assert row.consecutive_failures == 0  # the refused run is not the source's failure
