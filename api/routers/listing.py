"""Keyset pagination by id (newest first) shared by the alerting routers."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.pagination import decode_cursor, encode_cursor
from api.problems import ApiProblem

Row = TypeVar("Row")


def page_by_id(
    session: Session,
    query: Select[tuple[Row]],
    id_column: InstrumentedAttribute[Any],
    limit: int,
    cursor: str | None,
) -> tuple[list[Row], str | None]:
    """One page of `query` ordered by `id_column` descending, and the cursor of the next page (or None)."""
    after = decode_cursor(cursor)
    if after is not None:
        try:
            query = query.where(id_column < int(after[0]))
        except (IndexError, TypeError, ValueError):
            raise ApiProblem(400, "invalid_cursor", "the cursor is not one this API returned") from None
    rows = list(session.scalars(query.order_by(id_column.desc()).limit(limit + 1)))
    next_cursor = encode_cursor([getattr(rows[limit - 1], id_column.key)]) if len(rows) > limit else None
    return rows[:limit], next_cursor
