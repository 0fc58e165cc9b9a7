"""Shared fixtures: a migrated database on SQLite always, and on PostgreSQL when a URL is given.

PostgreSQL tests run when NOROSHI_TEST_DATABASE_URL is set (CI sets it). Each test session creates
its own throw-away database on that server, so parallel runs and a developer's data are untouched.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

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
        # A throw-away database need not survive a server crash: commits return without waiting for
        # the WAL flush (~2.8 ms each here, ~0.15 ms without). Locks, isolation and what other
        # connections see at commit are unchanged; only durability is.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
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


def empty_pg(engine: Engine) -> None:
    """Every row gone and every sequence back at its start, as TRUNCATE ... RESTART IDENTITY would leave
    them. DELETE, not TRUNCATE: a TRUNCATE gives each table and index new files, which the next
    checkpoint must fsync one by one (measured: ~20,000 files and a 31 s checkpoint after a session,
    paid by whichever test drops a database), and costs ~35 ms per test against ~4 ms here."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):  # children before their parents
            conn.execute(text(f'DELETE FROM "{table.name}"'))
        conn.execute(text("SELECT setval(seqrelid, seqstart, false) FROM pg_sequence"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test gets a byte copy of it (the file `upgrade`
    would write, without replaying every migration: ~0.1 s per test, a few hundred tests)."""
    path = tmp_path_factory.mktemp("sqlite_template") / "noroshi.db"
    upgrade(f"sqlite:///{path}")
    # The migration's connections are closed, so the WAL is checkpointed into the file itself.
    assert not path.with_name(path.name + "-wal").exists()
    return path


def migrated_sqlite(template: Path, path: Path) -> str:
    """A migrated SQLite database at `path` (a copy of the session's template); its URL."""
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A migrated database URL: a new SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        yield migrated_sqlite(request.getfixturevalue("sqlite_template"), tmp_path / "noroshi.db")
        return
    url = request.getfixturevalue("pg_database_url")
    engine = make_engine(url)
    empty_pg(engine)
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
