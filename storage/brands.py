"""Brands: who is watched, with which keywords, in which timezone and bucket size."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base
from storage.types import JSONType


class Brand(Base):
    __tablename__ = "brands"
    __table_args__ = (
        CheckConstraint("bucket_minutes > 0 AND bucket_minutes <= 1440", name="bucket_minutes_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    keywords: Mapped[list[str]] = mapped_column(JSONType)
    exclude: Mapped[list[str]] = mapped_column(JSONType, default=list)
    languages: Mapped[list[str]] = mapped_column(JSONType, default=list)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Tokyo")
    bucket_minutes: Mapped[int] = mapped_column(Integer, default=5)
    sensitivity: Mapped[str] = mapped_column(String(16), default="normal")
    # holiday calendar (python-holidays country code, e.g. "JP"): holidays are off days for detection
    holidays: Mapped[str | None] = mapped_column(String(8), nullable=True, default=None)
    locale: Mapped[str] = mapped_column(String(8), default="ja")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def as_rule_fields(self) -> dict[str, Any]:
        return {
            "brand_id": self.id,
            "keywords": list(self.keywords),
            "exclude": list(self.exclude or []),
            "languages": list(self.languages or []),
        }


def unknown_brands(session: Session, brand_ids: Sequence[int]) -> list[int]:
    """The ids in `brand_ids` that name no brand, in the order given."""
    known = set(session.scalars(select(Brand.id).where(Brand.id.in_(list(brand_ids)))))
    return [b for b in brand_ids if b not in known]
