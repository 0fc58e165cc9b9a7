"""The notification outbox, per-incident channel state, escalation routes and webhook subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import JSONType


class Notification(Base):
    """One delivery to one channel target, written in the same transaction as the incident change.

    `idempotency_key` (incident × channel × target × event × sequence) is unique: writing the same
    notification twice is a no-op, and a delivery already `sent` is never sent again.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))  # slack | email | webhook
    target: Mapped[str] = mapped_column(String(1024))  # Slack channel/user, address(es), subscription id
    event: Mapped[str] = mapped_column(String(32))  # triggered | escalated | reminder | acknowledged | …
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    # pending | sending | sent | dead | filtered (decided, but the target does not take the event)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # context snapshot to render
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # When the triggering bucket closed, so delivery latency (bucket close → delivered) can be measured.
    bucket_closed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ChannelState(Base):
    """What a channel remembers for an incident (the Slack message ts to edit, the thread to reply in)."""

    __tablename__ = "channel_states"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    target: Mapped[str] = mapped_column(String(1024), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime]


class NotificationRoute(Base):
    """One escalation step: who hears about incidents of a brand (or every brand) at or above a severity.

    `delay_minutes` 0 = at once; N = only if still unacknowledged after N minutes (then stop on ack).
    `reminder_minutes` repeats the notification while acknowledged but unresolved.
    """

    __tablename__ = "notification_routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), nullable=True)
    min_severity: Mapped[str] = mapped_column(String(16), default="attention")
    kinds: Mapped[list[str]] = mapped_column(JSONType, default=list)  # empty = every kind
    channel: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(1024))
    delay_minutes: Mapped[int] = mapped_column(Integer, default=0)
    reminder_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class WebhookSubscription(Base):
    """An outgoing webhook receiver. Secrets sign payloads (Standard Webhooks); a rotated-out secret keeps
    signing alongside the new one until `previous_secret_expires_at`, so receivers can switch without loss."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), nullable=True)
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)  # empty = every event
    secret: Mapped[str] = mapped_column(String(255))
    previous_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
