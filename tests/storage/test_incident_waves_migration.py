"""Migration 0008 (incident waves): existing incidents get their first wave, and going back down keeps
every incident's timeline and notifications (a table-copying downgrade would cascade-delete them on
SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from storage.engine import make_engine
from storage.migrations import downgrade, is_at_head, upgrade

OPENED = datetime(2026, 11, 21, 5, 6, tzinfo=UTC)


def _insert_incident_with_history(url: str) -> None:
    engine = make_engine(url)
    at = OPENED.isoformat()
    with engine.begin() as conn:
        brand = conn.execute(
            text(
                "INSERT INTO brands (name, keywords, exclude, languages, bucket_minutes, timezone,"
                " sensitivity, locale, created_at, updated_at)"
                " VALUES ('b', '[]', '[]', '[]', 5, 'Asia/Tokyo', 'normal', 'ja', :at, :at) RETURNING id"
            ),
            {"at": at},
        ).scalar_one()
        incident = conn.execute(
            text(
                "INSERT INTO incidents (brand_id, kind, dedup_key, status, severity, started_at,"
                " last_signal_at, score, peak_score, observed, expected, upper, test, evidence,"
                " created_at, updated_at) VALUES (:b, 'volume', 'k', 'triggered', 'flame', :at, :at,"
                " 9, 9, 400, 40, 90, 'nb_tail_1h', '{}', :at, :at) RETURNING id"
            ),
            {"b": brand, "at": at},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO incident_events (incident_id, at, event, actor, detail)"
                " VALUES (:i, :at, 'opened', 'noroshi', '{}')"
            ),
            {"i": incident, "at": at},
        )
    engine.dispose()


def _count(url: str, table: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return int(count)


def test_existing_incidents_get_their_first_wave_and_a_downgrade_keeps_timelines(db_url: str) -> None:
    downgrade(db_url, "0007")
    _insert_incident_with_history(db_url)
    upgrade(db_url)
    engine = make_engine(db_url)
    assert is_at_head(engine)
    with engine.connect() as conn:
        waves, last_wave_at = conn.execute(text("SELECT waves, last_wave_at FROM incidents")).one()
    engine.dispose()
    assert waves == 1
    stamp = last_wave_at if isinstance(last_wave_at, datetime) else datetime.fromisoformat(last_wave_at)
    assert abs(stamp.replace(tzinfo=stamp.tzinfo or UTC) - OPENED) < timedelta(seconds=1)

    downgrade(db_url, "0007")
    assert (_count(db_url, "incidents"), _count(db_url, "incident_events")) == (1, 1)
    upgrade(db_url)
