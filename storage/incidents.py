"""Incidents opened from detector signals, their timeline, and each brand's detector state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import JSONType


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_brand_status", "brand_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]  # the bucket at which the detector decided
    last_signal_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    snoozed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    # Why nobody is paged for it, if so: "silence:<id>", "campaign:<id>" or "inhibited_by:<incident id>".
    muted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    score: Mapped[float] = mapped_column(Float)
    peak_score: Mapped[float] = mapped_column(Float)
    observed: Mapped[float] = mapped_column(Float)
    expected: Mapped[float] = mapped_column(Float)
    upper: Mapped[float] = mapped_column(Float)
    negative_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    baseline_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    test: Mapped[str] = mapped_column(String(64))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Waves of activity (1 at open; +1 each time the event flares again after resting, 再燃) and when the
    # latest one was recorded: wall-clock like created_at, so the notify decision can compare it with
    # the time of the last page. NULL on rows written before migration 0008 or outside the detector.
    waves: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_wave_at: Mapped[datetime | None] = mapped_column(nullable=True)


class IncidentEvent(Base):
    """One line of an incident's timeline: what happened, when, and who did it."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class DetectorRun(Base):
    """Per brand: the detector's opaque state and the last bucket it evaluated (so ticks resume)."""

    __tablename__ = "detector_runs"

    brand_id: Mapped[int] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    evaluated_through: Mapped[datetime | None] = mapped_column(nullable=True)
    expected: Mapped[float | None] = mapped_column(Float, nullable=True)
    upper: Mapped[float | None] = mapped_column(Float, nullable=True)
    baseline_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime]
