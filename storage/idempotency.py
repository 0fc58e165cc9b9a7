"""Idempotency records: one per (caller, Idempotency-Key), holding the response to replay.

A record is inserted *before* the create runs (status NULL = in progress) so the unique constraint on
(owner, idempotency_key) decides which of two concurrent duplicates creates; the loser sees the record.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base

RETENTION = timedelta(hours=24)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("owner", "idempotency_key"),
        Index("ix_idempotency_records_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))  # "key:<api key id>" (or the local principal's name)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    method_path: Mapped[str] = mapped_column(String(600))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None while in progress
    response_body: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON text
    created_at: Mapped[datetime]


def find_record(session: Session, owner: str, idempotency_key: str) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.owner == owner, IdempotencyRecord.idempotency_key == idempotency_key
        )
    ).first()


def prune_idempotency_records(session: Session, now: datetime) -> int:
    """Delete records older than RETENTION (a retry after a day is a new request); returns how many."""
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - RETENTION))
    return int(getattr(result, "rowcount", 0) or 0)
