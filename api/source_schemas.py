"""Request model of PATCH /api/v1/sources/{id} (SourceIn and SourceOut live in api.schemas)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SourcePatch(BaseModel):
    """The fields to change; the rest stay. `kind` is fixed at creation (delete and re-create instead).
    New `settings` are checked for the source's kind like at creation and replace the old ones whole."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"enabled": False}, {"interval_seconds": 600, "name": "ITmedia"}]},
    )
    name: str | None = Field(None, min_length=1, max_length=200)
    settings: dict[str, Any] | None = Field(None, examples=[{"url": "https://news.example/rss"}])
    interval_seconds: int | None = Field(None, ge=1, le=86400)
    enabled: bool | None = None
