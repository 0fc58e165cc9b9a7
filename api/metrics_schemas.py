"""Response model of GET /api/v1/brands/{brand_id}/metrics (a bucket series with expectation and band)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Resolution = Literal["5m", "15m", "30m", "1h", "3h", "6h", "1d"]
RESOLUTION_MINUTES: dict[str, int] = {
    "5m": 5,
    "15m": 15,
    "30m": 30,
    "1h": 60,
    "3h": 180,
    "6h": 360,
    "1d": 1440,
}


class MetricPoint(BaseModel):
    start: datetime
    end: datetime
    total: int = Field(description="mentions in [start, end)")
    negative: int = Field(description="negative mentions in [start, end)")
    negative_share: float | None = Field(description="negative / total; null when total is 0")
    authors: int = Field(
        description="unique authors summed over the brand's buckets in the point: an upper bound of the "
        "point's unique authors (someone posting in two buckets counts twice)"
    )
    expected: float | None = Field(
        description="the detector's expected total, summed over the brand's buckets; null unless every "
        "bucket of the point has been evaluated with enough history (so the open point is null)"
    )
    upper: float | None = Field(
        description="upper band at the brand's sensitivity: expected + sqrt(Σ(upper_i − expected_i)²) "
        "over the brand's buckets (the band of a sum of independent deviations); null with expected"
    )
    baseline_share: float | None = Field(
        description="the detector's usual negative share at each bucket's hour and kind of day (a "
        "brand that is always more negative in the evening, or at weekends and on holidays, has a "
        "higher one then), averaged over the point's "
        "buckets weighted by their expected totals"
    )
    anomalous: bool = Field(description="total above the upper band")


class MetricsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "brand_id": 1,
                    "resolution": "1h",
                    "since": "2026-11-21T00:00:00Z",
                    "until": "2026-11-21T02:00:00Z",
                    "points": [
                        {
                            "start": "2026-11-21T00:00:00Z",
                            "end": "2026-11-21T01:00:00Z",
                            "total": 118,
                            "negative": 9,
                            "negative_share": 0.0763,
                            "authors": 101,
                            "expected": 112.4,
                            "upper": 151.9,
                            "baseline_share": 0.071,
                            "anomalous": False,
                        },
                        {
                            "start": "2026-11-21T01:00:00Z",
                            "end": "2026-11-21T02:00:00Z",
                            "total": 402,
                            "negative": 251,
                            "negative_share": 0.6244,
                            "authors": 330,
                            "expected": 120.0,
                            "upper": 160.3,
                            "baseline_share": 0.07,
                            "anomalous": True,
                        },
                    ],
                }
            ]
        }
    )
    brand_id: int
    resolution: Resolution
    since: datetime
    until: datetime
    points: list[MetricPoint] = Field(description="one per resolution step, oldest first, gaps as zeros")
