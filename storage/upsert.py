"""Dialect-aware INSERT … ON CONFLICT, the one place that knows SQLite and PostgreSQL spell it alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert_for(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {dialect!r}")


def insert_ignore(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    returning: Sequence[str] = (),
) -> list[Any]:
    """Insert rows, skipping those that collide on `conflict`; returns the inserted rows' `returning`."""
    if not rows:
        return []
    stmt = _insert_for(session, table).on_conflict_do_nothing(index_elements=list(conflict))
    if returning:
        stmt = stmt.returning(*(table.c[name] for name in returning))
        return list(session.execute(stmt, list(rows)).all())
    session.execute(stmt, list(rows))
    return []


def upsert_add(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    add: Sequence[str],
) -> None:
    """Insert rows; on conflict add their `add` columns to the stored ones (atomic under concurrency)."""
    if not rows:
        return
    base = _insert_for(session, table)
    stmt = base.on_conflict_do_update(
        index_elements=list(conflict),
        set_={name: table.c[name] + base.excluded[name] for name in add},
    )
    session.execute(stmt, list(rows))


def upsert_set(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    replace: Sequence[str],
) -> None:
    """Insert rows; on conflict overwrite only their `replace` columns (the others keep stored values)."""
    if not rows:
        return
    base = _insert_for(session, table)
    stmt = base.on_conflict_do_update(
        index_elements=list(conflict), set_={name: base.excluded[name] for name in replace}
    )
    session.execute(stmt, list(rows))
