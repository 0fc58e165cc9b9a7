"""A population prior for the time of day: how much people post at each brand-local hour.

A brand without a daily profile of its own (its first three days, "recent mode" in `baseline`) would
otherwise be judged against the mean of its last few hours, which ignores the time of day: the
ordinary morning ramp (night → 08:00 is several-fold) then looks like a surge. The recent hours are
divided by this curve to give a time-of-day-free level, and the expected count of the test window is
that level times the curve at the window's hours. Once three earlier days exist the brand's own
seasonal profile replaces the prior entirely.

Origin of POPULATION_CURVE (not fitted to the demo nor to any detector score): the five NAB realTweets
DEV series (`../shared/data/nab_realtweets`, tweets per 5 minutes about AAPL, AMZN, FB, GOOG, IBM,
2015-02-26 … 04-23). Per series and per day the hourly sums are divided by that day's mean hour; the
median over days gives a series' hour-of-day shape; the five shapes are combined by geometric mean and
normalised to mean 1. NAB's timestamps are UTC (the trough falls at 05–09 UTC, the peak at US market
hours); the curve below is read in the audience's local time, US Eastern (UTC−4 for most of the span).
`python -m benchmarks.diurnal_prior` recomputes it.

The prior is the curve raised to SINGLE_ZONE_EXPONENT = 1.5 (peak ÷ trough 2.6 → 4.2): ticker chatter
comes from an audience spread over several time zones (US east to west coast, overseas traders), which
flattens the day; a brand's audience mostly lives in one time zone and sleeps at the same hours (the
bundled demo's JST day is 8.5 : 1). `baseline` never lets the prior lower the expectation below the
flat recent mean, so it can only make a new brand quieter than a flat model, never noisier. Chosen
among 1, 1.5 and 2.25 on 30 synthetic first days of a Japanese consumer brand (quiet 03–05 h, five
times busier by 08 h; tests/detectors/test_new_brand.py), not on the demo or NAB scores: false volume
alerts on 2 / 0 / 0 of 30 days (flat model: 14), 5× bursts caught 79 / 83 / 64 of 90 (flat: 47).
"""

from __future__ import annotations

import numpy as np

from detectors.series import MINUTES_PER_DAY, Frame

# Multiplier per local hour 00:00 … 23:00 (mean of the hour), mean 1.
POPULATION_CURVE: tuple[float, ...] = (
    0.65, 0.58, 0.58, 0.56, 0.62, 0.65, 0.68, 0.79, 0.98, 1.18, 1.30, 1.42,
    1.45, 1.42, 1.48, 1.43, 1.35, 1.27, 1.13, 1.01, 0.97, 0.90, 0.83, 0.77,
)  # fmt: skip
AUDIENCE_UTC_OFFSET_HOURS = -4  # US Eastern (daylight time) for the NAB audience, see the module doc
SINGLE_ZONE_EXPONENT = 1.5  # sharpens the multi-time-zone NAB day to one time zone's, see the module doc


def curve_at(local_hours: np.ndarray) -> np.ndarray:
    """The curve at fractional local hours, linear between hour centres (it wraps around midnight)."""
    values = np.asarray(POPULATION_CURVE, dtype=np.float64)
    x = np.mod(np.asarray(local_hours, dtype=np.float64) - 0.5, 24.0)
    lo = np.floor(x).astype(np.int64)
    frac = x - lo
    return values[lo % 24] * (1.0 - frac) + values[(lo + 1) % 24] * frac


def bucket_multipliers(frame: Frame) -> np.ndarray:
    """The prior multiplier of each bucket of the frame, at its middle in brand-local time.

    One day's table on the bucket grid, gathered by each bucket's local slot (this runs every tick).
    """
    per_day = MINUTES_PER_DAY // frame.bucket_minutes
    if per_day * frame.bucket_minutes != MINUTES_PER_DAY:  # buckets that do not tile a day
        base = frame.start.timestamp() / 60.0
        minutes = base + (np.arange(frame.n, dtype=np.float64) + frame.offset + 0.5) * frame.bucket_minutes
        return curve_at(np.mod(minutes, MINUTES_PER_DAY) / 60.0) ** SINGLE_ZONE_EXPONENT
    table = _day_table(frame.bucket_minutes)
    first = int(frame.start.timestamp() // 60) // frame.bucket_minutes  # a grid off the slots floors
    return table[(first + np.arange(frame.n, dtype=np.int64) + frame.offset) % per_day]


_TABLES: dict[int, np.ndarray] = {}


def _day_table(bucket_minutes: int) -> np.ndarray:
    table = _TABLES.get(bucket_minutes)
    if table is None:
        slots = np.arange(MINUTES_PER_DAY // bucket_minutes, dtype=np.float64)
        table = curve_at((slots + 0.5) * bucket_minutes / 60.0) ** SINGLE_ZONE_EXPONENT
        _TABLES[bucket_minutes] = table
    return table
