"""Kind "push": posts arrive through the HTTP API, so there is nothing to fetch.

It exists so a brand can have a registered source (and a source id for idempotent mentions) for pushed
posts. Its registry entry has `pull=False`: the scheduler needs no collect job for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import httpx

from collectors.posts import FetchResult
from collectors.sources.base import SourceSettings, register_source_kind


class PushSettings(SourceSettings):
    """No settings."""


@register_source_kind("push", PushSettings, pull=False)
class PushSource:
    """Posts pushed through the API; fetch returns nothing."""

    kind: ClassVar[str] = "push"

    def __init__(self, settings: PushSettings, *, http: httpx.Client | None = None) -> None:
        self.settings = settings

    def fetch(self, cursor: dict[str, Any] | None, now: datetime) -> FetchResult:
        return FetchResult(posts=[], cursor=cursor, watermark=None)
