"""Sources: where mentions come from, their schedule, cursor and health."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import JSONType


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=300)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    cursor: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    # Time through which this source has delivered everything; None = live (up to now).
    watermark: Mapped[datetime | None] = mapped_column(nullable=True)
    exhausted: Mapped[bool] = mapped_column(Boolean, default=False)
    last_run_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # Backoff: a failing source is not run again before this time.
    next_run_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The worker collecting it now and until when (storage/leases.py); a dead worker's lease runs out.
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime]
    # Set by DELETE /api/v1/sources/{id}: the row stays (disabled, renamed) because its mentions reference
    # it with ON DELETE CASCADE, and those mentions belong to the brands they were matched to.
    deleted_at: Mapped[datetime | None] = mapped_column(nullable=True)
