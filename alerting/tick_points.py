"""From stored bucket arrays to the detector's input: each evaluated bucket's trailing window.

The tick loads each brand's buckets as numpy arrays (`storage.bucket_series`) and hands the detector
slices of them (`detectors.series.BucketArrays`): building a BucketPoint per bucket (8,064 per brand
and tick) only for the detector to turn them back into arrays cost about as much as the detector.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import numpy as np

from detectors import BucketArrays
from detectors.series import ONE_MICROSECOND, micros
from storage.bucket_series import BucketSeries

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO = np.zeros(1, dtype=np.int64)


def epoch_of(at: datetime) -> int:
    """Whole seconds since the UTC epoch (bucket starts are whole seconds)."""
    return int((at - EPOCH).total_seconds())


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a brand is evaluated.

    The detector's many short-lived containers trigger collections that walk every long-lived object
    of the process again and again; they hold no reference cycles and are freed by reference
    counting. Process-wide, so the pause stays short (one brand) and is only undone if the collector
    was on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def detector_arrays(series: BucketSeries) -> BucketArrays:
    """The brand's stored buckets in the detector's array form (starts in microseconds)."""
    return BucketArrays.from_epoch_seconds(series.epoch, series.total, series.negative, series.authors)


def window(history: BucketArrays, end: datetime, span: timedelta) -> BucketArrays:
    """The trailing `span` ending exactly at `end` (a zero bucket is added if nobody posted then)."""
    last = micros(end)
    starts = history.start_us
    lo = int(np.searchsorted(starts, last - span // ONE_MICROSECOND, side="right"))
    hi = int(np.searchsorted(starts, last, side="right"))
    rows = slice(lo, hi)
    trailing = BucketArrays(starts[rows], history.total[rows], history.negative[rows], history.authors[rows])
    if lo < hi and int(starts[hi - 1]) == last:
        return trailing
    return BucketArrays(
        np.append(trailing.start_us, last),
        np.concatenate((trailing.total, _ZERO)),
        np.concatenate((trailing.negative, _ZERO)),
        np.concatenate((trailing.authors, _ZERO)),
    )
