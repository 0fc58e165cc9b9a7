"""Silences and campaign windows: times when incidents are recorded but nobody is paged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class Silence(Base):
    """Mute matching incidents between `starts_at` and `ends_at`. A null matcher matches everything;
    `max_severity` mutes only up to that severity (e.g. silence 注意 but still page 炎上)."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), nullable=True)
    kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    max_severity: Mapped[str | None] = mapped_column(String(16), nullable=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class CampaignWindow(Base):
    """'We expect a spike during the launch': incidents inside are recorded, not paged, and summarised
    once the window ends (`summarized_at`)."""

    __tablename__ = "campaign_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    summarized_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime]


class RunbookOverride(Base):
    """A brand's own runbook text (Markdown + Jinja) for a kind, optionally a severity, in one locale."""

    __tablename__ = "runbook_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str | None] = mapped_column(String(16), nullable=True)  # null = every severity
    locale: Mapped[str] = mapped_column(String(8))
    template: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]
