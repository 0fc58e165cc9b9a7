"""Request and response models of /api/v1 (snake_case JSON, ISO 8601 UTC times)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from collectors.matching import BrandRule, validate_keywords

Sensitivity = Literal["low", "normal", "high"]


class BrandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, examples=["ノロシ珈琲"])
    keywords: list[str] = Field(examples=[["ノロシ珈琲", "Noroshi Coffee", "#ノロシ珈琲"]])
    exclude: list[str] = Field(default_factory=list, examples=[["のろし台"]])
    languages: list[str] = Field(default_factory=list, examples=[["ja", "en"]])
    timezone: str = Field("Asia/Tokyo", examples=["Asia/Tokyo"])
    bucket_minutes: int = Field(5, ge=1, le=1440)
    sensitivity: Sensitivity = "normal"
    locale: Literal["ja", "en"] = "ja"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value.strip()

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        problems = validate_keywords(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @model_validator(mode="after")
    def _rule(self) -> BrandIn:
        problems = BrandRule(
            brand_id=0, keywords=self.keywords, exclude=self.exclude, languages=self.languages
        ).validate()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Asia/Tokyo)") from None
        return value

    @field_validator("bucket_minutes")
    @classmethod
    def _bucket(cls, value: int) -> int:
        if 1440 % value:
            raise ValueError("bucket_minutes must divide a day evenly (e.g. 1, 5, 10, 15, 30, 60)")
        return value


class BrandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    keywords: list[str]
    exclude: list[str]
    languages: list[str]
    timezone: str
    bucket_minutes: int
    sensitivity: str
    locale: str
    created_at: datetime


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(examples=["rss"])
    settings: dict[str, Any] = Field(default_factory=dict, examples=[{"url": "https://news.example/rss"}])
    interval_seconds: int = Field(300, ge=1, le=86400)
    enabled: bool = True


class SourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: str
    settings: dict[str, Any]
    interval_seconds: int
    enabled: bool
    watermark: datetime | None
    exhausted: bool
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int


class MentionIn(BaseModel):
    """One pushed post. `id` is unique within the push source; pushing it again changes nothing."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=255, examples=["1790000000000000001"])
    posted_at: AwareDatetime = Field(examples=["2026-11-21T05:05:00Z"])
    text: str = Field(min_length=1, max_length=20000, examples=["ノロシ珈琲の新作ラテ美味しい"])
    author: str | None = Field(None, max_length=255)
    followers: int | None = Field(None, ge=0)
    reposts: int | None = Field(None, ge=0)
    url: str | None = Field(None, max_length=2048)
    lang: str | None = Field(None, max_length=16)


class MentionBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field("push", min_length=1, max_length=200, description="name of a source of kind 'push'")
    mentions: list[dict[str, Any]] = Field(
        min_length=1, max_length=1000, description="items are validated one by one (see MentionIn)"
    )


class MentionItemResult(BaseModel):
    index: int
    id: str | None
    status: Literal["stored", "duplicate", "unmatched", "rejected"]
    brand_ids: list[int] = Field(default_factory=list)
    errors: list[dict[str, str]] = Field(default_factory=list)


class MentionBatchOut(BaseModel):
    source_id: int
    stored: int
    duplicates: int
    unmatched: int
    rejected: int
    results: list[MentionItemResult]


class MentionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    source_id: int
    external_id: str
    posted_at: datetime
    author: str | None
    author_followers: int | None
    reposts: int | None
    url: str | None
    lang: str | None
    text: str
    negativity: float
    negative: bool


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    brand_id: int
    kind: str
    status: str
    severity: str
    started_at: datetime
    last_signal_at: datetime
    resolved_at: datetime | None
    score: float
    peak_score: float
    observed: float
    expected: float
    upper: float
    negative_share: float | None
    baseline_share: float | None
    test: str
    url: str | None = None


class BucketOut(BaseModel):
    start: datetime
    total: int
    negative: int
    reach: int
    authors: int


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
