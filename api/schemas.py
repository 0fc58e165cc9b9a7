"""Request and response models of /api/v1 (snake_case JSON, ISO 8601 UTC times)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("name must not be blank")
    return value.strip()


# A name people give something (a brand, an API key): 1–200 characters, not only whitespace, stripped.
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_not_blank)]

MENTION_IN_EXAMPLE: dict[str, Any] = {
    "id": "1790000000000000001",
    "posted_at": "2026-11-21T05:05:00Z",
    "text": "ノロシ珈琲の新作ラテ美味しい",
    "author": "coffee_lover",
    "followers": 1200,
    "reposts": 3,
    "url": "https://x.example/coffee_lover/status/1790000000000000001",
    "lang": "ja",
}
ITEM_RESULT_EXAMPLE: dict[str, Any] = {
    "index": 0,
    "id": "1790000000000000001",
    "status": "stored",
    "brand_ids": [1],
    "errors": [],
}


class SourceIn(BaseModel):
    """Where posts come from. `settings` depend on `kind` (rss: url; x, bluesky, …: see the README)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "ITmedia news",
                    "kind": "rss",
                    "settings": {"url": "https://news.example/rss"},
                    "interval_seconds": 300,
                    "enabled": True,
                }
            ]
        },
    )
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(examples=["rss"])
    settings: dict[str, Any] = Field(default_factory=dict, examples=[{"url": "https://news.example/rss"}])
    interval_seconds: int = Field(300, ge=1, le=86400)
    enabled: bool = True


class SourceOut(BaseModel):
    """A source with its health: `consecutive_failures` > 0 means the last run failed (`last_error`)."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "name": "ITmedia news",
                    "kind": "rss",
                    "settings": {"url": "https://news.example/rss"},
                    "interval_seconds": 300,
                    "enabled": True,
                    "watermark": None,
                    "exhausted": False,
                    "last_run_at": "2026-11-21T05:55:00Z",
                    "last_success_at": "2026-11-21T05:55:00Z",
                    "last_error": None,
                    "last_error_at": None,
                    "consecutive_failures": 0,
                }
            ]
        },
    )
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

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [MENTION_IN_EXAMPLE]})
    id: str = Field(min_length=1, max_length=255, examples=["1790000000000000001"])
    posted_at: AwareDatetime = Field(examples=["2026-11-21T05:05:00Z"])
    text: str = Field(min_length=1, max_length=20000, examples=["ノロシ珈琲の新作ラテ美味しい"])
    author: str | None = Field(None, max_length=255)
    followers: int | None = Field(None, ge=0)
    reposts: int | None = Field(None, ge=0)
    url: str | None = Field(None, max_length=2048)
    lang: str | None = Field(None, max_length=16)


class MentionBatchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"source": "push", "mentions": [MENTION_IN_EXAMPLE]}]},
    )
    source: str = Field("push", min_length=1, max_length=200, description="name of a source of kind 'push'")
    mentions: list[dict[str, Any]] = Field(
        min_length=1, max_length=1000, description="items are validated one by one (see MentionIn)"
    )


class MentionItemResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ITEM_RESULT_EXAMPLE]})
    index: int
    id: str | None
    status: Literal["stored", "duplicate", "unmatched", "rejected"]
    brand_ids: list[int] = Field(default_factory=list)
    errors: list[dict[str, str]] = Field(default_factory=list)


class MentionBatchOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source_id": 2,
                    "stored": 1,
                    "duplicates": 0,
                    "unmatched": 0,
                    "rejected": 1,
                    "results": [
                        ITEM_RESULT_EXAMPLE,
                        {
                            "index": 1,
                            "id": "1790000000000000002",
                            "status": "rejected",
                            "brand_ids": [],
                            "errors": [{"field": "posted_at", "message": "Field required"}],
                        },
                    ],
                }
            ]
        }
    )
    source_id: int
    stored: int
    duplicates: int
    unmatched: int
    rejected: int
    results: list[MentionItemResult]


class MentionOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 5120,
                    "source_id": 2,
                    "external_id": "1790000000000000001",
                    "posted_at": "2026-11-21T05:05:00Z",
                    "author": "coffee_lover",
                    "author_followers": 1200,
                    "reposts": 3,
                    "url": "https://x.example/coffee_lover/status/1790000000000000001",
                    "lang": "ja",
                    "text": "ノロシ珈琲の店員の動画ひどすぎる",
                    "negativity": 0.82,
                    "negative": True,
                }
            ]
        },
    )
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


INCIDENT_EXAMPLE: dict[str, Any] = {
    "id": 42,
    "brand_id": 1,
    "kind": "volume",
    "status": "triggered",
    "severity": "flame",
    "started_at": "2026-11-21T05:05:00Z",
    "last_signal_at": "2026-11-21T05:40:00Z",
    "resolved_at": None,
    "score": 9.4,
    "peak_score": 11.2,
    "observed": 412.0,
    "expected": 48.5,
    "upper": 95.0,
    "negative_share": 0.63,
    "baseline_share": 0.12,
    "test": "nb_tail_1h",
    "waves": 1,
    "last_wave_at": "2026-11-21T05:06:00Z",
    "url": "http://127.0.0.1:8000/incidents/42",
}


class IncidentOut(BaseModel):
    """An incident with its evidence: `observed` against `expected` and the `upper` band, the detector's
    `score` and `test`, and the negative share against the brand's usual share."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [INCIDENT_EXAMPLE]})
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
    baseline_share: float | None = Field(
        description="The brand's usual negative share: for a negativity incident, usual at this time "
        "of day (a brand that is always more negative in the evening has a higher usual share then); "
        "for a volume incident, over its last week."
    )
    test: str = Field(
        description="The test that fired, ending in the window it compared (15m, 1h, 3h): "
        "`nb_tail_*` mentions against the expected volume; `betabinom_share_*` the negative share "
        "against the brand's usual share at this hour on this kind of day (working day, or weekend "
        "and holiday); `betabinom_step_*` the negative share "
        "against the hours just before the window (a sudden change of tone; `expected` and `upper` "
        "are then from those hours, plus the change the brand usually makes at this hour where it "
        "turns its tone every day; `baseline_share` stays the usual share)."
    )
    # How many waves of activity the event has had: 2 or more = it flared again (再燃) after resting;
    # `last_wave_at` is when the latest one was recorded. Null for incidents older than waves.
    waves: int | None = None
    last_wave_at: datetime | None = None
    url: str | None = None


class BucketOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"start": "2026-11-21T05:00:00Z", "total": 37, "negative": 21, "reach": 48200, "authors": 33}
            ]
        }
    )
    start: datetime
    total: int
    negative: int
    reach: int
    authors: int


T = TypeVar("T")


def _page_example(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    """Page[X]'s example: one item from X's own example, and a cursor."""
    args = get_args(cls.model_fields["items"].annotation)
    extra = (
        args[0].model_config.get("json_schema_extra") if args and hasattr(args[0], "model_config") else None
    )
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if isinstance(examples, list) and examples:
        schema["examples"] = [{"items": [examples[0]], "next_cursor": "WzQyXQ"}]


class Page(BaseModel, Generic[T]):
    """One page, newest first. `next_cursor` is null on the last page; otherwise pass it back as `cursor`."""

    model_config = ConfigDict(json_schema_extra=_page_example)
    items: list[T]
    next_cursor: str | None = None
