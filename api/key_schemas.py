"""Request and response models of /api/v1/api-keys (the secret appears in one response only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from api.schemas import Name

Scope = Literal["read", "write", "ingest", "admin"]

_CREATED_EXAMPLE = {
    "id": 7,
    "name": "dashboard integration",
    "prefix": "3f9a1c2b7d4e",
    "scopes": ["read"],
    "brand_ids": [1, 2],
    "created_at": "2026-11-21T05:00:00Z",
    "expires_at": "2027-11-21T00:00:00Z",
    "last_used_at": None,
    "revoked_at": None,
    "key": "nrs_3f9a1c2b7d4e_kS0…",
    "key_shown": True,
}


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "dashboard integration", "scopes": ["read"], "brand_ids": [1, 2]},
            ]
        },
    )
    name: Name
    scopes: list[Scope] = Field(min_length=1, description="read, write, ingest, admin (admin implies all)")
    brand_ids: list[int] | None = Field(
        None, description="limit the key to these brands; omit or null for every brand", max_length=1000
    )
    expires_at: AwareDatetime | None = Field(None, description="ISO 8601 with a timezone; null = never")

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    @field_validator("brand_ids")
    @classmethod
    def _brands(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and not value:
            raise ValueError("give at least one brand id, or null for every brand")
        return sorted(set(value)) if value is not None else None


class ApiKeyOut(BaseModel):
    """A key's metadata: never the secret, never its hash."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{k: v for k, v in _CREATED_EXAMPLE.items() if k[:3] != "key"}]},
    )
    id: int
    name: str
    prefix: str = Field(description="the public part of the key, `nrs_<prefix>_…`, to recognise it")
    scopes: list[str]
    brand_ids: list[int] | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="updated at most once a minute")
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_CREATED_EXAMPLE]})
    key: str | None = Field(
        description="the full key, shown once; null on an idempotent replay (it is never stored)"
    )
    key_shown: bool = Field(
        description="false on an idempotent replay: the key cannot be shown again — revoke it and create "
        "another if it was lost"
    )
