"""Migrations build the schema on SQLite and PostgreSQL, match the models, and go down and up again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from storage.brands import Brand
from storage.engine import make_engine, make_session_factory
from storage.migrations import current_revisions, downgrade, head_revisions, is_at_head, upgrade
from storage.models import Base


def test_upgrade_reaches_head_with_every_table(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revisions(engine) == head_revisions(db_url)
    assert is_at_head(engine)
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    engine.dispose()


def test_models_and_migrations_do_not_drift(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], f"models differ from migrations: {diff}"


def test_downgrade_to_base_and_back(db_url: str) -> None:
    downgrade(db_url, "base")
    engine = make_engine(db_url)
    assert "brands" not in inspect(engine).get_table_names()
    upgrade(db_url)
    assert is_at_head(engine)
    engine.dispose()


def test_datetimes_round_trip_as_aware_utc(db_url: str) -> None:
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    jst = timezone(timedelta(hours=9))
    created = datetime(2026, 11, 21, 15, 0, tzinfo=jst)
    with factory() as session, session.begin():
        session.add(
            Brand(name="b", keywords=["b"], exclude=[], languages=[], created_at=created, updated_at=created)
        )
    with factory() as session:
        stored = session.scalars(select(Brand)).one().created_at
    assert stored.tzinfo is not None
    assert stored == created
    assert stored.astimezone(UTC).hour == 6
    engine.dispose()


def test_naive_datetimes_are_refused(db_url: str) -> None:
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    naive = datetime(2026, 11, 21, 15, 0)
    with pytest.raises(Exception, match="naive datetime"), factory() as session, session.begin():
        session.add(
            Brand(name="n", keywords=["n"], exclude=[], languages=[], created_at=naive, updated_at=naive)
        )
    engine.dispose()
