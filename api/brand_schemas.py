"""Request and response models of /api/v1/brands: who is watched and how detection reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.schemas import Name
from collectors.matching import BrandRule, validate_keywords
from detectors.offdays import calendar_for_timezone, check_calendar, check_timezone

Sensitivity = Literal["low", "normal", "high"]
HOLIDAYS_HELP = (
    "Holiday calendar, a country code such as JP, US or GB: the country's public holidays (for JP also "
    "the 年末年始 bank holidays) count as off days like Saturday and Sunday, so a holiday's posting pattern "
    "is compared with earlier off days. 'auto' (on creation the default) = the timezone's country "
    "(Asia/Tokyo → JP); 'none' or null = weekends only."
)

SENSITIVITY_HELP = (
    "How readily the brand pages. 'normal' (the default): a surge at least 1.5× the usual volume and 15 "
    "posts that would happen by chance about once in three million windows, or a negative share 12 "
    "points above the brand's usual one at that hour. 'high': earlier warning and more false alarms "
    "(about once in thirty thousand, 1.3×, 8 posts; 8 points). 'low': only unmistakable surges (about "
    "once in a billion, 2×, 30 posts, over two buckets; 20 points). Measured recall, latency and false "
    "alarms of each: the project's benchmarks/README.md, 'The sensitivity dial'."
)

BRAND_IN_EXAMPLE: dict[str, Any] = {
    "name": "ノロシ珈琲",
    "keywords": ["ノロシ珈琲", "Noroshi Coffee", "#ノロシ珈琲"],
    "exclude": ["のろし台"],
    "languages": ["ja", "en"],
    "timezone": "Asia/Tokyo",
    "bucket_minutes": 5,
    "sensitivity": "normal",
    "holidays": "JP",
    "locale": "ja",
}


class BrandIn(BaseModel):
    """A brand to watch: posts matching `keywords` (and none of `exclude`) are counted for it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [BRAND_IN_EXAMPLE]},
    )
    name: Name = Field(examples=["ノロシ珈琲"])
    keywords: list[str] = Field(examples=[["ノロシ珈琲", "Noroshi Coffee", "#ノロシ珈琲"]])
    exclude: list[str] = Field(default_factory=list, examples=[["のろし台"]])
    languages: list[str] = Field(default_factory=list, examples=[["ja", "en"]])
    timezone: str = Field("Asia/Tokyo", examples=["Asia/Tokyo"])
    bucket_minutes: int = Field(5, ge=1, le=1440)
    sensitivity: Sensitivity = Field("normal", description=SENSITIVITY_HELP)
    holidays: str | None = Field("auto", examples=["JP"], description=HOLIDAYS_HELP)
    locale: Literal["ja", "en"] = "ja"

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
        return check_timezone(value)

    @field_validator("bucket_minutes")
    @classmethod
    def _bucket(cls, value: int) -> int:
        if 1440 % value:
            raise ValueError("bucket_minutes must divide a day evenly (e.g. 1, 5, 10, 15, 30, 60)")
        return value

    @model_validator(mode="after")
    def _calendar(self) -> BrandIn:
        word = (self.holidays or "none").strip().lower()
        if word == "auto":
            self.holidays = calendar_for_timezone(self.timezone)
        else:
            self.holidays = None if word == "none" else check_calendar(self.holidays)
        return self


class BrandPatch(BaseModel):
    """The fields to change; the rest stay. `timezone` and `bucket_minutes` are fixed at creation: the
    stored buckets and the detector's history are laid out in them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"keywords": ["ノロシ珈琲", "Noroshi Coffee"], "sensitivity": "high"}]
        },
    )
    name: Name | None = None
    keywords: list[str] | None = None
    exclude: list[str] | None = None
    languages: list[str] | None = None
    sensitivity: Sensitivity | None = Field(None, description=SENSITIVITY_HELP)
    holidays: str | None = Field(None, examples=["JP", "none"], description=HOLIDAYS_HELP)
    locale: Literal["ja", "en"] | None = None


BRAND_EXAMPLE: dict[str, Any] = {"id": 1, **BRAND_IN_EXAMPLE, "created_at": "2026-11-20T01:00:00Z"}


class BrandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [BRAND_EXAMPLE]})
    id: int
    name: str
    keywords: list[str]
    exclude: list[str]
    languages: list[str]
    timezone: str
    bucket_minutes: int
    sensitivity: str = Field(description="low, normal or high (see the brand's input model)")
    holidays: str | None = Field(description="holiday calendar in use (null: weekends only)")
    locale: str
    created_at: datetime
