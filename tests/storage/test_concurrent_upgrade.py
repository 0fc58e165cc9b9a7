"""Several workers starting at once against a new PostgreSQL database all come up (they take turns)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.engine import make_engine
from storage.migrations import is_at_head
from tests.conftest import pg_admin_url

ROOT = Path(__file__).resolve().parents[2]
UPGRADE = "import sys; from storage.migrations import upgrade; upgrade(sys.argv[1])"


@pytest.mark.postgres
def test_three_processes_upgrade_one_new_database_together() -> None:
    admin = pg_admin_url()
    if admin is None:
        pytest.skip("PostgreSQL tests need NOROSHI_TEST_DATABASE_URL")
    name = f"noroshi_migrate_{uuid.uuid4().hex[:10]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        runs = [
            subprocess.Popen([sys.executable, "-c", UPGRADE, url], cwd=ROOT, stderr=subprocess.PIPE)
            for _ in range(3)
        ]
        errors = [run.communicate(timeout=120)[1].decode() for run in runs]
        assert [run.returncode for run in runs] == [0, 0, 0], errors
        engine = make_engine(url)
        assert is_at_head(engine)
        with engine.connect() as conn:
            applied = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
        engine.dispose()
        assert applied == 1
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()
