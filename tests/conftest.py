"""Shared fixtures: a migrated database on SQLite always, and on PostgreSQL when a URL is given.

PostgreSQL tests run when NOROSHI_TEST_DATABASE_URL is set (CI sets it). Each test session creates
its own throw-away database on that server, so parallel runs and a developer's data are untouched.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage.engine import make_engine, make_session_factory, normalize_url
from storage.migrations import upgrade
from storage.models import Base

PG_ENV = "NOROSHI_TEST_DATABASE_URL"


def pg_admin_url() -> str | None:
    url = os.environ.get(PG_ENV)
    return normalize_url(url) if url else None


@contextmanager
def fresh_pg_database(prefix: str, migrate: bool = True) -> Iterator[str]:
    """A new database on the test server (migrated unless told not to), dropped afterwards."""
    admin = pg_admin_url()
    if admin is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session (dropped afterwards)."""
    with fresh_pg_database("noroshi_test") as url:
        yield url


def _truncate_all(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A migrated database URL: a new SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'noroshi.db'}"
        upgrade(url)
        yield url
        return
    url = request.getfixturevalue("pg_database_url")
    engine = make_engine(url)
    _truncate_all(engine)
    engine.dispose()
    yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture(scope="session")
def scorer():  # type: ignore[no-untyped-def]
    from collectors.negativity import NegativityScorer

    return NegativityScorer()


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
