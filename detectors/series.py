"""A brand's bucket history as dense arrays on a regular grid, plus window sums over it.

Missing buckets are zero mentions. Index 0 is the first bucket whose value is known (the brand's first
bucket, or the start of the window the caller passed); nothing before it is read. Every computation in
the detector is written in positions relative to the evaluated bucket, so the live path (a trailing
window) and the replay path (the whole series at once) read exactly the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from detectors.types import BucketPoint

MINUTES_PER_DAY = 1440
_TOTAL, _NEGATIVE, _AUTHORS = attrgetter("total"), attrgetter("negative"), attrgetter("authors")


@dataclass(frozen=True)
class Frame:
    """Dense counts from `start` (index 0) to the last bucket, one element per bucket."""

    start: datetime
    bucket_minutes: int
    total: np.ndarray  # int64
    negative: np.ndarray  # int64
    authors: np.ndarray  # int64 (0 = unknown)
    offset: np.ndarray  # int64: brand-local UTC offset at each bucket, in buckets (for DST-aware lags)
    weekend: np.ndarray  # bool: the bucket falls on a Saturday or Sunday in brand-local time

    @property
    def n(self) -> int:
        return int(self.total.shape[0])

    @property
    def per_day(self) -> int:
        return max(1, round(MINUTES_PER_DAY / self.bucket_minutes))

    def at(self, index: int) -> datetime:
        return self.start + timedelta(minutes=self.bucket_minutes * index)


def buckets(minutes: float, bucket_minutes: int) -> int:
    """A duration in whole buckets (at least one)."""
    return max(1, round(minutes / bucket_minutes))


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_offsets(start: datetime, n: int, bucket_minutes: int, timezone: str) -> np.ndarray:
    """UTC offset of the brand's timezone at each bucket, in buckets (constant outside DST zones)."""
    zone = _zone(timezone)
    end = start + timedelta(minutes=bucket_minutes * max(n - 1, 0))
    first, last = start.astimezone(zone).utcoffset(), end.astimezone(zone).utcoffset()
    assert first is not None and last is not None
    if first == last and not _has_transition(start, end, zone):
        value = round(first.total_seconds() / 60 / bucket_minutes)
        return np.full(n, value, dtype=np.int64)
    index = pd.date_range(start, periods=n, freq=f"{bucket_minutes}min")
    local = index.tz_convert(timezone)
    minutes = (local.tz_localize(None) - index.tz_localize(None)).total_seconds() / 60
    return np.round(np.asarray(minutes) / bucket_minutes).astype(np.int64)


def _has_transition(start: datetime, end: datetime, zone: ZoneInfo) -> bool:
    """Whether the offset changes between start and end (checked at daily steps, then the ends)."""
    reference = start.astimezone(zone).utcoffset()
    step = timedelta(days=1)
    current = start
    while current < end:
        current = min(current + step, end)
        if current.astimezone(zone).utcoffset() != reference:
            return True
    return False


def build_frame(points: Sequence[BucketPoint], bucket_minutes: int, timezone: str, start: datetime) -> Frame:
    """Dense arrays from `start` to the last point, on the grid of the last point.

    Points before `start` are ignored; points between grid steps are floored onto the grid; a bucket
    given twice keeps the later point.
    """
    if not points:
        raise ValueError("history is empty")
    last = points[-1].start
    step = timedelta(minutes=bucket_minutes)
    lead = (last - start) // step  # whole buckets from start to last
    grid_start = last - lead * step
    n = int(lead) + 1
    count = len(points)
    if points[0].start == last - (count - 1) * step and points[0].start >= grid_start:
        index = np.arange(n - count, n, dtype=np.int64)  # contiguous history: the usual live case
    else:
        seconds = np.fromiter((p.start.timestamp() for p in points), dtype=np.float64, count=count)
        index = np.floor((seconds - grid_start.timestamp()) / (bucket_minutes * 60) + 1e-9).astype(np.int64)
    keep = (index >= 0) & (index < n)
    total = np.zeros(n, dtype=np.int64)
    negative = np.zeros(n, dtype=np.int64)
    authors = np.zeros(n, dtype=np.int64)
    idx = index[keep]
    total[idx] = np.fromiter(map(_TOTAL, points), dtype=np.int64, count=count)[keep]
    negative[idx] = np.fromiter(map(_NEGATIVE, points), dtype=np.int64, count=count)[keep]
    authors[idx] = np.fromiter(map(_AUTHORS, points), dtype=np.int64, count=count)[keep]
    offset = local_offsets(grid_start, n, bucket_minutes, timezone)
    weekend = weekend_mask(grid_start, offset, bucket_minutes)
    return Frame(grid_start, bucket_minutes, total, negative, authors, offset, weekend)


def weekend_mask(grid_start: datetime, offset: np.ndarray, bucket_minutes: int) -> np.ndarray:
    """Saturday/Sunday in brand-local time for each bucket (1970-01-01 was a Thursday)."""
    base = int(grid_start.timestamp() // 60)
    local = base + (np.arange(offset.shape[0], dtype=np.int64) + offset) * bucket_minutes
    weekday = (local // MINUTES_PER_DAY + 3) % 7  # Monday = 0
    return weekday >= 5


def prefix(values: np.ndarray) -> np.ndarray:
    """Prefix sums with a leading zero: window sum over [a, b] is c[b + 1] - c[a]."""
    out = np.zeros(values.shape[0] + 1, dtype=values.dtype)
    np.cumsum(values, out=out[1:])
    return out


def clamp(values: np.ndarray | int, low: int, high: int) -> np.ndarray:
    """np.clip for integer index arrays, without its per-call overhead (this is the hot path)."""
    return np.minimum(np.maximum(values, low), high)


def window_sum(csum: np.ndarray, pos: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum of the `width` buckets ending at each position; second array says where it is defined."""
    valid = (pos - width + 1 >= 0) & (pos < csum.shape[0] - 1)
    hi = clamp(pos + 1, 0, csum.shape[0] - 1)
    lo = clamp(pos - width + 1, 0, csum.shape[0] - 1)
    return csum[hi] - csum[lo], valid


def median_of_valid(values: np.ndarray, valid: np.ndarray, minimum: int) -> np.ndarray:
    """Median along axis 0 of the valid entries; NaN where fewer than `minimum` are valid."""
    filled = np.where(valid, values.astype(np.float64), np.inf)
    ordered = np.sort(filled, axis=0)
    count = valid.sum(axis=0)
    low = np.clip((count - 1) // 2, 0, values.shape[0] - 1)
    high = np.clip(count // 2, 0, values.shape[0] - 1)
    cols = np.arange(values.shape[1])
    med = (ordered[low, cols] + ordered[high, cols]) / 2.0
    return np.where(count >= max(minimum, 1), med, np.nan)
