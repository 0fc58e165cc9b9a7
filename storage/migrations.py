"""Run Alembic migrations programmatically (`noroshi db upgrade`, tests, startup)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from storage.engine import make_engine, normalize_url

ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"
# Any fixed 64-bit number, the same in every process: the session-level advisory lock that serialises
# upgrades when several workers start at once against one PostgreSQL database.
MIGRATION_LOCK_KEY = 0x6E6F726F736869  # "noroshi"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    # '%' must be escaped for configparser; the URL may carry a percent-encoded password.
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Upgrade to `revision`. On PostgreSQL, processes starting together take turns (the later ones
    find the schema at head and do nothing) instead of racing to create the same tables."""
    config = alembic_config(url)
    if not normalize_url(url).startswith("postgresql"):
        command.upgrade(config, revision)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                connection.commit()
            finally:
                connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                connection.commit()
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head_revisions(url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def is_at_head(engine: Engine) -> bool:
    url = engine.url.render_as_string(hide_password=False)
    return current_revisions(engine) == head_revisions(url)
