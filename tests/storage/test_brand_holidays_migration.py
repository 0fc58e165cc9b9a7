"""Migration 0009 (brand holidays): existing brands get their timezone's country; down and up keep them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from storage.engine import make_engine
from storage.migrations import downgrade, upgrade


def test_migration_gives_existing_brands_their_timezone_country(db_url: str) -> None:
    downgrade(db_url, "0008")
    engine = make_engine(db_url)
    at = datetime(2026, 11, 21, tzinfo=UTC).isoformat()
    with engine.begin() as conn:
        for name, zone in (("a", "Asia/Tokyo"), ("b", "Europe/London"), ("c", "UTC")):
            conn.execute(
                text(
                    "INSERT INTO brands (name, keywords, exclude, languages, bucket_minutes, timezone,"
                    " sensitivity, locale, created_at, updated_at)"
                    " VALUES (:n, '[]', '[]', '[]', 5, :z, 'normal', 'ja', :at, :at)"
                ),
                {"n": name, "z": zone, "at": at},
            )
    upgrade(db_url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT name, holidays FROM brands ORDER BY name")).all())
    assert rows == {"a": "JP", "b": "GB", "c": None}
    downgrade(db_url, "0008")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM brands")).scalar_one() == 3
    upgrade(db_url)
    engine.dispose()
