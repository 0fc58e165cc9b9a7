"""Several workers starting at once against a new PostgreSQL database all come up (they take turns)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.engine import make_engine
from storage.migrations import is_at_head
from tests.conftest import fresh_pg_database

ROOT = Path(__file__).resolve().parents[2]
UPGRADE = "import sys; from storage.migrations import upgrade; upgrade(sys.argv[1])"


@pytest.mark.postgres
def test_three_processes_upgrade_one_new_database_together() -> None:
    with fresh_pg_database("noroshi_migrate", migrate=False) as url:
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
