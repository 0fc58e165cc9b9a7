"""Request and response models of the alerting part of /api/v1: incident actions, silences, campaign
windows, notification routes, webhook subscriptions and runbook overrides (snake_case, ISO 8601 UTC)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from api.schemas import INCIDENT_EXAMPLE, IncidentOut

Severity = Literal["attention", "warning", "flame"]
Kind = Literal["volume", "negativity"]
Channel = Literal["slack", "email", "webhook"]
Locale = Literal["ja", "en"]
WebhookEvent = Literal[
    "triggered",
    "escalated",
    "flared_again",
    "reminder",
    "acknowledged",
    "snoozed",
    "resolved",
    "commented",
    "campaign_summary",
]
MAX_NOTE = 4000
EVENT_EXAMPLE: dict[str, Any] = {
    "id": 311,
    "at": "2026-11-21T05:12:00Z",
    "event": "acknowledged",
    "actor": "api:pr-desk",
    "note": "PR team is on it",
    "detail": {},
}
SILENCE_EXAMPLE: dict[str, Any] = {
    "brand_id": 1,
    "kind": "volume",
    "max_severity": "warning",
    "starts_at": "2026-11-21T05:00:00Z",
    "ends_at": "2026-11-21T08:00:00Z",
    "reason": "maintenance of the collector",
}
WINDOW_EXAMPLE: dict[str, Any] = {
    "brand_id": 1,
    "name": "新商品ローンチ",
    "starts_at": "2026-11-21T01:00:00Z",
    "ends_at": "2026-11-22T01:00:00Z",
    "note": "TV spot at 19:00 JST",
}
ROUTE_EXAMPLE: dict[str, Any] = {
    "brand_id": None,
    "min_severity": "warning",
    "kinds": [],
    "channel": "email",
    "target": "crisis@example.com",
    "delay_minutes": 15,
    "reminder_minutes": None,
    "enabled": True,
}
WEBHOOK_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "url": "https://hooks.example.com/noroshi",
    "brand_id": None,
    "events": ["triggered", "resolved"],
    "enabled": True,
    "previous_secret_expires_at": None,
    "created_at": "2026-11-21T04:00:00Z",
}
CREATED = {"id": 9, "created_by": "api:pr-desk", "created_at": "2026-11-21T04:58:00Z"}


# -- incident actions --------------------------------------------------------------------------------


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "PR team is on it"}]})
    note: str | None = Field(None, max_length=MAX_NOTE, examples=["PR team is on it"])


class SnoozeIn(ActionIn):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"minutes": 60, "note": "waiting for the store manager"},
                {"until": "2026-11-21T06:00:00Z"},
            ]
        },
    )
    until: AwareDatetime | None = Field(None, examples=["2026-11-21T06:00:00Z"])
    minutes: int | None = Field(None, ge=1, le=7 * 24 * 60, examples=[60])

    @model_validator(mode="after")
    def _one_of(self) -> SnoozeIn:
        if (self.until is None) == (self.minutes is None):
            raise ValueError("give exactly one of until (ISO 8601 with a timezone) or minutes")
        return self


class CommentIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "Holding statement posted"}]}
    )
    text: str = Field(min_length=1, max_length=MAX_NOTE, examples=["Holding statement posted"])


class TimelineEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [EVENT_EXAMPLE]})
    id: int
    at: datetime
    event: str
    actor: str
    note: str | None
    detail: dict[str, Any]


class ActionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "incident": {**INCIDENT_EXAMPLE, "status": "acknowledged"},
                    "event": EVENT_EXAMPLE,
                    "notifications_enqueued": 1,
                }
            ]
        }
    )
    incident: IncidentOut
    event: TimelineEventOut
    notifications_enqueued: int  # outbox rows written for targets already told about the incident


# -- muting -----------------------------------------------------------------------------------------


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SILENCE_EXAMPLE]})
    brand_id: int | None = None  # null = every brand
    kind: Kind | None = None  # null = every kind
    max_severity: Severity | None = None  # null = every severity
    starts_at: AwareDatetime | None = None  # default: now
    ends_at: AwareDatetime
    reason: str = Field(min_length=1, max_length=MAX_NOTE, examples=["maintenance of the collector"])


class SilenceOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [{**SILENCE_EXAMPLE, **CREATED}]}
    )
    id: int
    brand_id: int | None
    kind: str | None
    max_severity: str | None
    starts_at: datetime
    ends_at: datetime
    created_by: str
    reason: str
    created_at: datetime


class CampaignWindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [WINDOW_EXAMPLE]})
    brand_id: int
    name: str = Field(min_length=1, max_length=200, examples=["新商品ローンチ"])
    starts_at: AwareDatetime | None = None  # default: now
    ends_at: AwareDatetime
    note: str | None = Field(None, max_length=MAX_NOTE)


class CampaignWindowOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{**WINDOW_EXAMPLE, **CREATED, "summarized_at": None}]},
    )
    id: int
    brand_id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    created_by: str
    note: str | None
    summarized_at: datetime | None
    created_at: datetime


# -- notification routes and webhooks ---------------------------------------------------------------


class RouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ROUTE_EXAMPLE]})
    brand_id: int | None = None  # null = every brand
    min_severity: Severity = "attention"
    kinds: list[Kind] = Field(default_factory=list)  # empty = every kind
    channel: Channel
    target: str = Field(min_length=1, max_length=1024, examples=["#pr-alerts"])
    delay_minutes: int = Field(0, ge=0, le=7 * 24 * 60)
    reminder_minutes: int | None = Field(None, ge=1, le=7 * 24 * 60)
    enabled: bool = True


class RouteOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{**ROUTE_EXAMPLE, "id": 2, "created_at": "2026-11-21T04:00:00Z"}]},
    )
    id: int
    brand_id: int | None
    min_severity: str
    kinds: list[str]
    channel: str
    target: str
    delay_minutes: int
    reminder_minutes: int | None
    enabled: bool
    created_at: datetime


class WebhookIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example.com/noroshi",
                    "brand_id": None,
                    "events": ["triggered", "resolved"],
                }
            ]
        },
    )
    url: str = Field(max_length=2048, examples=["https://hooks.example.com/noroshi"])
    brand_id: int | None = None  # null = every brand
    events: list[WebhookEvent] = Field(default_factory=list)  # empty = every event

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("url must be an absolute http(s) URL")
        return value


class WebhookOut(BaseModel):
    """A subscription as listed: never with its secrets."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [WEBHOOK_EXAMPLE]})
    id: int
    url: str
    brand_id: int | None
    events: list[str]
    enabled: bool
    previous_secret_expires_at: datetime | None
    created_at: datetime


class WebhookSecretOut(WebhookOut):
    """Returned once, on create and on rotate: store `secret` now, it is not shown again."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [{**WEBHOOK_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqXQk8jAa0bDEMOsecretEXAMPLE"}]
        },
    )

    secret: str


# -- runbooks ---------------------------------------------------------------------------------------


class RunbookIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "template": "## {{ brand }}: まず事実確認\n1. 広報責任者に連絡する",
                    "locale": "ja",
                    "severity": "flame",
                }
            ]
        },
    )
    template: str = Field(min_length=1, max_length=100_000)
    locale: Locale
    severity: Severity | None = None  # null = every severity of this kind


class RunbookOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "volume",
                    "severity": "flame",
                    "locale": "ja",
                    "source": "override",
                    "override_id": 5,
                    "override_severity": "flame",
                    "template": "## {{ brand }}: まず事実確認",
                    "updated_by": "api:pr-desk",
                    "updated_at": "2026-11-21T04:00:00Z",
                }
            ]
        }
    )
    kind: str
    severity: str
    locale: str
    source: Literal["override", "default"]
    override_id: int | None = None
    override_severity: str | None = None  # the override's own severity (null = it covers every severity)
    template: str
    updated_by: str | None = None
    updated_at: datetime | None = None
