"""The shape every source produces: a post as the outside world gave it, before matching and scoring."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class RawPost:
    """One post from a source. `external_id` is unique within its source; `posted_at` is tz-aware UTC."""

    external_id: str
    posted_at: datetime
    text: str
    author: str | None = None
    author_followers: int | None = None
    reposts: int | None = None
    url: str | None = None
    lang: str | None = None  # as the source declares it; scoring detects it when missing


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one collect run of a source returns.

    `cursor` is persisted and handed back on the next run, so a restart neither loses nor repeats
    posts. `watermark` is the time through which the source has delivered everything (None = live,
    i.e. up to now); detection never evaluates a bucket past the watermark of the brand's sources.
    `skipped` lists (external id or position, reason) for malformed items that were left out.
    """

    posts: list[RawPost]
    cursor: dict[str, Any] | None
    watermark: datetime | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    exhausted: bool = False  # a finite source (file replay) has nothing more to give
