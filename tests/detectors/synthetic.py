"""Synthetic brand series for detector tests (no files, deterministic seeds)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from detectors import BucketPoint

START = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)  # Tuesday 00:00 in Tokyo
BUCKETS_PER_DAY = 288  # of 5 minutes


def daily_shape(minutes_utc: float, tz_hours: float = 9.0, amplitude: float = 0.6) -> float:
    """Smooth daily cycle in brand-local time: low at 04:00, high at 16:00."""
    local_hour = (minutes_utc / 60.0 + tz_hours) % 24
    return 1.0 + amplitude * math.sin(2 * math.pi * (local_hour - 10) / 24)


def make_series(
    days: float,
    per_bucket: float,
    *,
    seed: int = 0,
    bucket_minutes: int = 5,
    amplitude: float = 0.6,
    share: float = 0.15,
    dispersion: float = 0.05,
    start: datetime = START,
    shape: Callable[[float], float] | None = None,
    multiplier: Callable[[int], float] | None = None,
    share_at: Callable[[int], float] | None = None,
) -> list[BucketPoint]:
    """Negative-binomial counts around a daily cycle; `multiplier(i)`/`share_at(i)` inject events."""
    rng = np.random.default_rng(seed)
    n = int(days * 1440 / bucket_minutes)
    points = []
    for i in range(n):
        minutes = (start - START).total_seconds() / 60 + i * bucket_minutes
        base = per_bucket * (shape(minutes) if shape else daily_shape(minutes, amplitude=amplitude))
        mu = base * (multiplier(i) if multiplier else 1.0)
        lam = rng.gamma(1 / dispersion, mu * dispersion) if mu > 0 else 0.0
        total = int(rng.poisson(lam))
        p = share_at(i) if share_at else share
        negative = int(rng.binomial(total, p))
        authors = round(total * 0.9)
        points.append(
            BucketPoint(start + timedelta(minutes=bucket_minutes * i), total, negative, authors, total * 50)
        )
    return points


def index_at(points: list[BucketPoint], when: datetime) -> int:
    return next(i for i, p in enumerate(points) if p.start >= when)


def ramp(start: int, rise: int, factor: float, hold: int) -> Callable[[int], float]:
    """1 before `start`, linear up to `factor` over `rise` buckets, held for `hold`, then back to 1."""

    def f(i: int) -> float:
        if i < start or i >= start + rise + hold:
            return 1.0
        if i < start + rise:
            return 1.0 + (factor - 1.0) * (i - start + 1) / rise
        return factor

    return f


def shifted(
    days: Sequence[float] | np.ndarray, at: int, delta: float, hours: float = 3.0
) -> Callable[[int], float]:
    """A share per brand-local day (5-minute buckets), plus `delta` for `hours` from bucket `at`."""
    end = at + round(hours * 12)
    return lambda i: float(days[i // BUCKETS_PER_DAY]) + (delta if at <= i < end else 0.0)


def daily_shares(mean: float, seed: int, days: int = 11, concentration: float = 60.0) -> np.ndarray:
    """One negative share per day, Beta-distributed around `mean` (days differ in tone)."""
    rng = np.random.default_rng(seed)
    return rng.beta(mean * concentration, (1 - mean) * concentration, size=days)
