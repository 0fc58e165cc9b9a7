"""Backfill and catch-up after downtime: the collector resumes from its cursor, detection replays the
missed buckets, and only the flare-up still going when the worker comes back pages; the one that
began and ended inside the gap is recorded on its timeline without paging anyone."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from alerting.notify import Notifier, NotifyConfig
from alerting.notify_policy import RouteView
from alerting.summary import build_incident_context
from alerting.tick import DetectionTicker
from collectors.ingest import MentionIngestor
from collectors.jobs import SourceRunner
from storage.incidents import Incident, IncidentEvent
from storage.mentions import Mention
from storage.notifications import Notification
from storage.timebuckets import bucket_start
from tests.alerting.test_tick import _fill
from tests.helpers import add_brand, add_source

FIVE = timedelta(minutes=5)
HISTORY = 48  # buckets of calm baseline (4 h) before collection starts
GAP = timedelta(hours=5)


def _write_posts(
    path: Path, start: datetime, end: datetime, flares: dict[str, tuple[datetime, datetime]]
) -> list[datetime]:
    """Calm chatter for each brand, loud and angry inside its flare window; returns the post times."""
    rng = random.Random(11)
    rows = []
    at = start
    while at < end:
        for brand, (flare_from, flare_to) in flares.items():
            angry = flare_from <= at < flare_to
            for _ in range(rng.randint(60, 80) if angry else rng.randint(5, 9)):
                body = "最悪 異物混入 二度と買わない" if angry else "新作を飲んだ"
                posted = at + timedelta(seconds=rng.randint(0, 299))
                rows.append((posted, f"{brand} {body}", f"u{rng.randint(1, 10**6)}"))
        at += FIVE
    rows.sort()
    with path.open("w", encoding="utf-8") as out:
        for i, (posted, text, author) in enumerate(rows):
            record = {"id": str(i), "posted_at": posted.isoformat(), "text": text, "author": author}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return [posted for posted, _, _ in rows]


def _collected(factory) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        return int(session.scalar(select(func.count(Mention.id))) or 0)


def test_after_downtime_only_the_live_flare_pages(factory, scorer, now, tmp_path) -> None:
    start = bucket_start(now, 5)
    back = start + GAP  # the worker comes back
    flares = {
        "ノロシA珈琲": (
            start + timedelta(hours=1),
            start + timedelta(hours=1, minutes=30),
        ),  # over in the gap
        "ノロシB茶房": (back - timedelta(minutes=30), back + timedelta(hours=1)),  # still going
    }
    path = tmp_path / "posts.jsonl"
    times = _write_posts(path, start, back + timedelta(hours=1), flares)

    def due(at: datetime) -> int:  # the replay's clock starts at its first post when first fetched
        return sum(1 for t in times if t <= times[0] + (at - start))

    with factory() as session, session.begin():
        brands = {name: add_brand(session, name, [name], now).id for name in flares}
        calm = [(7, 0)] * HISTORY
        for brand_id in brands.values():
            _fill(session, brand_id, start - HISTORY * FIVE, calm)
        # Speed 1 in original time: the file plays like a live feed, posts appear at their own time.
        settings = {"path": str(path), "time_mode": "original", "speed": 1.0, "batch_max": 100_000}
        source = add_source(session, "feed", now, kind="replay", settings=settings).id
    runner = SourceRunner(factory, MentionIngestor(scorer), owner="worker-1")
    routes = (RouteView("slack", "C0INCIDENTS"),)
    notifier = Notifier(build_incident_context, NotifyConfig("https://noroshi.example.jp", routes))
    ticker = DetectionTicker(factory, auto_resolve=timedelta(hours=2), notifier=notifier)

    for minute in (0, 5, 10):  # healthy for ten minutes
        assert runner.run(source, start + timedelta(minutes=minute)).ok
        ticker.tick(start + timedelta(minutes=minute))
    before = _collected(factory)
    assert before == due(start + timedelta(minutes=10))

    # Five hours down; a different worker process comes back and resumes from the stored cursor.
    after = SourceRunner(factory, MentionIngestor(scorer), owner="worker-2").run(source, back)
    assert after.ok and after.fetched == after.stored
    assert _collected(factory) == before + after.stored == due(back)  # nothing lost, nothing twice
    summary = ticker.tick(back)
    assert summary.buckets_evaluated >= GAP / FIVE - 2  # the missed buckets were all replayed

    with factory() as session:
        by_brand = {
            name: session.scalars(select(Incident).where(Incident.brand_id == brand_id)).all()
            for name, brand_id in brands.items()
        }
        ended, live = by_brand["ノロシA珈琲"], by_brand["ノロシB茶房"]
        assert ended and {i.status for i in ended} == {"resolved"}
        assert live and {i.status for i in live} == {"triggered"}
        for incident in ended:  # recorded on its timeline …
            events = list(
                session.scalars(
                    select(IncidentEvent.event)
                    .where(IncidentEvent.incident_id == incident.id)
                    .order_by(IncidentEvent.id)
                )
            )
            assert events[0] == "opened" and "resolve" in events
        paged = list(session.scalars(select(Notification.incident_id)))
    assert not {i.id for i in ended} & set(paged)  # … but nobody was paged for it
    assert {i.id for i in live} & set(paged)  # the live one pages
    assert len(paged) == len(set(paged))  # once
    assert ticker.tick(back + timedelta(seconds=30)).notifications == []  # and not again
