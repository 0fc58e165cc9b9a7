"""A brand's bucket history as dense arrays on a regular grid, plus window sums over it.

Missing buckets are zero mentions. Index 0 is the first bucket whose value is known (the brand's first
bucket, or the start of the window the caller passed); nothing before it is read. Every computation in
the detector is written in positions relative to the evaluated bucket, so the live path (a trailing
window) and the replay path (the whole series at once) read exactly the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cached_property, lru_cache
from operator import attrgetter
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from detectors.offdays import holiday_mask
from detectors.types import BucketPoint

MINUTES_PER_DAY = 1440
MAD_TO_SD = 1.4826  # a normal's standard deviation per median absolute deviation
_TOTAL, _NEGATIVE, _AUTHORS = attrgetter("total"), attrgetter("negative"), attrgetter("authors")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)
MICROS = 1_000_000  # microseconds per second


@dataclass(frozen=True)
class Frame:
    """Dense counts from `start` (index 0) to the last bucket, one element per bucket."""

    start: datetime
    bucket_minutes: int
    total: np.ndarray  # int64
    negative: np.ndarray  # int64
    authors: np.ndarray  # int64 (0 = unknown)
    offset: np.ndarray  # int64: brand-local UTC offset at each bucket, in buckets (for DST-aware lags)
    off_day: np.ndarray  # bool: the bucket falls on a Saturday, Sunday or holiday in brand-local time

    @property
    def n(self) -> int:
        return int(self.total.shape[0])

    @property
    def per_day(self) -> int:
        return max(1, round(MINUTES_PER_DAY / self.bucket_minutes))

    def at(self, index: int) -> datetime:
        return self.start + timedelta(minutes=self.bucket_minutes * index)

    # Prefix sums of the counts, computed once per frame: the baseline, every scale and the share test
    # all read window sums of the same arrays. (cached_property writes the instance dict directly, so it
    # works on a frozen dataclass; the arrays are never mutated.)
    @cached_property
    def csum_total(self) -> np.ndarray:
        return prefix(self.total)

    @cached_property
    def csum_negative(self) -> np.ndarray:
        return prefix(self.negative)

    @cached_property
    def csum_authors(self) -> np.ndarray:
        return prefix(self.authors)

    @cached_property
    def csum_off_day(self) -> np.ndarray:
        return prefix(self.off_day.astype(np.int64))


def buckets(minutes: float, bucket_minutes: int) -> int:
    """A duration in whole buckets (at least one)."""
    return max(1, round(minutes / bucket_minutes))


def micros(at: datetime) -> int:
    """Whole microseconds since the UTC epoch (exact: datetimes have microsecond resolution)."""
    return (at - EPOCH) // ONE_MICROSECOND


@dataclass(frozen=True, slots=True)
class BucketArrays:
    """A brand's buckets as arrays ordered by start: the array form of a list of BucketPoint.

    Missing buckets are zero mentions. Callers holding arrays already (the live tick) pass these
    directly; building a BucketPoint per bucket only for the detector to turn them back into arrays
    cost as much as the detector's arithmetic.
    """

    start_us: np.ndarray  # int64: bucket start, microseconds since the UTC epoch
    total: np.ndarray  # int64
    negative: np.ndarray  # int64
    authors: np.ndarray  # int64 (0 = unknown)
    tz: tzinfo = UTC  # zone of the datetimes handed back (signal times, state)

    def __len__(self) -> int:
        return int(self.start_us.shape[0])

    def time(self, index: int) -> datetime:
        """The start of the bucket at `index`, as a timezone-aware datetime."""
        at = EPOCH + timedelta(microseconds=int(self.start_us[index]))
        return at if self.tz is UTC else at.astimezone(self.tz)

    @classmethod
    def from_epoch_seconds(
        cls, epoch: np.ndarray, total: np.ndarray, negative: np.ndarray, authors: np.ndarray
    ) -> BucketArrays:
        return cls(epoch.astype(np.int64) * MICROS, total, negative, authors)

    @classmethod
    def from_points(cls, points: Sequence[BucketPoint], bucket_minutes: int) -> BucketArrays:
        """The points' arrays (ordered by start; the last start must be timezone-aware)."""
        count = len(points)
        last = points[-1].start
        if last.tzinfo is None:
            raise ValueError("BucketPoint.start must be timezone-aware (UTC)")
        step = timedelta(minutes=bucket_minutes)
        if points[0].start == last - (count - 1) * step:  # contiguous: the usual live case, no per-point time
            starts = micros(last) - np.arange(count - 1, -1, -1, dtype=np.int64) * (
                bucket_minutes * 60 * MICROS
            )
        else:
            starts = np.fromiter((micros(p.start) for p in points), dtype=np.int64, count=count)
        return cls(
            starts,
            np.fromiter(map(_TOTAL, points), dtype=np.int64, count=count),
            np.fromiter(map(_NEGATIVE, points), dtype=np.int64, count=count),
            np.fromiter(map(_AUTHORS, points), dtype=np.int64, count=count),
            last.tzinfo,
        )


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


def build_frame(
    points: Sequence[BucketPoint],
    bucket_minutes: int,
    timezone: str,
    start: datetime,
    holidays: str | None = None,
) -> Frame:
    """`frame_from_arrays` of the points (see there)."""
    if not points:
        raise ValueError("history is empty")
    return frame_from_arrays(
        BucketArrays.from_points(points, bucket_minutes), bucket_minutes, timezone, start, holidays
    )


def frame_from_arrays(
    history: BucketArrays,
    bucket_minutes: int,
    timezone: str,
    start: datetime,
    holidays: str | None = None,
) -> Frame:
    """Dense arrays from `start` to the last bucket, on the grid of the last bucket.

    Buckets before `start` are ignored; buckets between grid steps are floored onto the grid; a bucket
    given twice keeps the later one. Integer microseconds throughout, so placing buckets is exact.
    `holidays` is the brand's holiday calendar (`detectors.offdays`).
    """
    if not len(history):
        raise ValueError("history is empty")
    step = timedelta(minutes=bucket_minutes)
    step_us = bucket_minutes * 60 * MICROS
    last_us = int(history.start_us[-1])
    lead = (last_us - micros(start)) // step_us  # whole buckets from start to last
    grid_start = history.time(-1) - lead * step
    n = int(lead) + 1
    index = (history.start_us - (last_us - lead * step_us)) // step_us
    keep = (index >= 0) & (index < n)
    idx = index[keep]
    total = np.zeros(n, dtype=np.int64)
    negative = np.zeros(n, dtype=np.int64)
    authors = np.zeros(n, dtype=np.int64)
    total[idx] = history.total[keep]
    negative[idx] = history.negative[keep]
    authors[idx] = history.authors[keep]
    offset = local_offsets(grid_start, n, bucket_minutes, timezone)
    off_day = off_day_mask(grid_start, offset, bucket_minutes, holidays)
    return Frame(grid_start, bucket_minutes, total, negative, authors, offset, off_day)


def off_day_mask(
    grid_start: datetime, offset: np.ndarray, bucket_minutes: int, holidays: str | None = None
) -> np.ndarray:
    """Saturday, Sunday or a holiday of the calendar, in brand-local time, for each bucket."""
    base = int(grid_start.timestamp() // 60)
    local = base + (np.arange(offset.shape[0], dtype=np.int64) + offset) * bucket_minutes
    day = local // MINUTES_PER_DAY
    weekday = (day + 3) % 7  # Monday = 0 (1970-01-01 was a Thursday)
    if holidays is None:
        return weekday >= 5
    # a frame spans few days: look the distinct ones up, then spread back over the buckets
    days, inverse = np.unique(day, return_inverse=True)
    return (weekday >= 5) | holiday_mask(days, holidays)[inverse]


def prefix(values: np.ndarray) -> np.ndarray:
    """Prefix sums with a leading zero: window sum over [a, b] is c[b + 1] - c[a]."""
    out = np.zeros(values.shape[0] + 1, dtype=values.dtype)
    np.cumsum(values, out=out[1:])
    return out


def clamp(values: np.ndarray | int, low: int, high: int) -> np.ndarray:
    """np.clip for integer index arrays, without its per-call overhead (this is the hot path)."""
    return np.minimum(np.maximum(values, low), high)


def same_kind_of_day(
    off_day: np.ndarray, now_end: np.ndarray, then_end: np.ndarray, width: int | np.ndarray
) -> np.ndarray:
    """Whether the windows of `width` buckets ending at `then_end` (earlier days) start and end on the
    same kind of day (working or off) as those ending at `now_end` (the arrays broadcast): a window
    across Friday midnight is a Friday night's, never a whole Saturday evening's."""
    last = off_day.shape[0] - 1
    ends = off_day[clamp(then_end, 0, last)] == off_day[clamp(now_end, 0, last)]
    starts = off_day[clamp(then_end - width + 1, 0, last)] == off_day[clamp(now_end - width + 1, 0, last)]
    return ends & starts


def window_sum(csum: np.ndarray, pos: np.ndarray, width: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum of the `width` buckets ending at each position; second array says where it is defined."""
    last = csum.shape[0] - 1
    first = pos - (width - 1)
    valid = (first >= 0) & (pos < last)
    # clamp inlined: this runs a few dozen times per tick on small arrays, where each call counts
    hi = np.minimum(np.maximum(pos + 1, 0), last)
    lo = np.minimum(np.maximum(first, 0), last)
    return csum[hi] - csum[lo], valid


def median_of_valid(values: np.ndarray, valid: np.ndarray, minimum: int) -> np.ndarray:
    """Median along axis 0 of the valid entries; NaN where fewer than `minimum` are valid."""
    filled = np.where(valid, values.astype(np.float64), np.inf)
    ordered = np.sort(filled, axis=0)
    count = valid.sum(axis=0)
    low = clamp((count - 1) // 2, 0, values.shape[0] - 1)
    high = clamp(count // 2, 0, values.shape[0] - 1)
    cols = np.arange(values.shape[1])
    med = (ordered[low, cols] + ordered[high, cols]) / 2.0
    return np.where(count >= max(minimum, 1), med, np.nan)
