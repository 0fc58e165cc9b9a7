"""Expected mention counts: a seasonal profile scaled to the recent level, or a recent robust rate.

Seasonal mode (at least `MIN_LAGS` earlier days available): the profile is the median, over the same
brand-local time of day on earlier days, of the window sum — days 1–7 back (daily shape) plus 14 and
21 days back when the history reaches that far, so the same weekday carries three of nine votes
(weekly shape). Only days of the same kind vote — working days, or off days: weekends and the brand's
holidays (`detectors.offdays`) — matched at both ends of the window, so a window across midnight into
a Saturday is compared with Friday nights; where fewer than three of those days are of the kind (a
holiday on a weekday), the days in between (8–20 back) of that kind vote too. A median ignores a past
spike as long as it sits on fewer than half the days. A weekly pattern is the exception it must not
ignore: where each of the last three same weekdays (7, 14 and 21 days back) stood clearly above the
brand's other days at this hour — a weekly TV programme, a weekly sale — the profile is the least of
those three (`_with_weekday`), so the brand is not surging every Tuesday at 21:00. The
profile is scaled by the level: observed ÷ profile over the day before the test window, so a brand that
has grown (or faded) since last week is judged against its current level.

Recent mode (a new brand, or a history shorter than a few days): each of the last four hourly counts
before the test window is divided by the population's time-of-day curve at that hour (`diurnal`), the
largest is dropped (robust to one burst) and the mean of the rest is the brand's level; the expected
window sum is that level times the curve over the window's buckets, so the ordinary morning ramp is
expected rather than alarming (never less than the flat mean of those hours: the prior only raises the
expectation, so a brand with an unusual day is not judged against a decline it never had). It needs
three known hours; with less the model has no opinion (NaN) and nothing fires.

Excluded buckets (`excluded`, those of the brand's ongoing volume event, set by the engine) are skipped
by the level and by the recent rate (which then reaches further back, up to RECENT_LOOKBACK_HOURS), so a
long event is judged against the brand's level before it rather than against itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from detectors.diurnal import bucket_multipliers
from detectors.series import (
    MAD_TO_SD,
    Frame,
    buckets,
    clamp,
    median_of_valid,
    prefix,
    same_kind_of_day,
    window_sum,
)

DAILY_LAGS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 14, 21)
WEEKLY_LAGS: tuple[int, ...] = (7, 14, 21)  # the same weekday on each of the last three weeks
WEEKDAY_MARGIN = 2.0  # in robust standard deviations of the days' windows (see _with_weekday)
MIN_LAGS = 3  # earlier days needed before the seasonal profile is used
LEVEL_DAYS = 1.0  # the level is measured over this many days before the test window
LEVEL_PSEUDO = 2.0  # pseudo-count per hour that keeps the level ratio near 1 on sparse series
LEVEL_MIN_HOURS = 6
GAP_EXPECTED = 10.0  # an empty hour where this many posts were expected is a collection gap
RECENT_HOURS = 4
RECENT_MIN_HOURS = 3
RECENT_LOOKBACK_HOURS = 12  # how far back the recent rate may look for hours outside an event
MIN_EXPECTED_PER_HOUR = 0.05  # floor on the expected rate, so an empty past does not mean "impossible"
LOOKBACK_MARGIN_DAYS = 4  # lags + level + dispersion window must fit in the history window


def lag_days(history_days: int) -> tuple[int, ...]:
    """The day lags the profile may use so that every input stays inside the history window."""
    limit = history_days - LOOKBACK_MARGIN_DAYS
    return tuple(j for j in DAILY_LAGS if j <= limit)


@dataclass(frozen=True)
class Baseline:
    """Precomputed per-bucket profile over a suffix of the frame, shared by all scales."""

    frame: Frame
    lags: tuple[int, ...]
    csum_total: np.ndarray  # prefix sums of total over the whole frame
    profile_start: int  # first position for which `profile1` is computed
    profile1: np.ndarray  # per-bucket profile at positions profile_start.. (NaN = not seasonal yet)
    csum_profile: np.ndarray  # prefix sums of profile1 with NaN as 0
    csum_profile_n: np.ndarray  # prefix counts of positions where profile1 is defined
    csum_excluded: np.ndarray | None = None  # prefix counts of excluded buckets (None = none)

    @classmethod
    def build(
        cls, frame: Frame, lags: tuple[int, ...], profile_start: int, excluded: np.ndarray | None = None
    ) -> Baseline:
        """The plain baseline (or, with `excluded`, the one without those buckets; see `excluding`)."""
        csum_total = frame.csum_total
        start = max(0, profile_start)
        pos = np.arange(start, frame.n, dtype=np.int64)
        # kept as hour sums (exact half-integers) so that sums over it are exact whatever the start
        profile1, matched = _profile(frame, csum_total, lags, pos, 1, scaled=False)
        defined = ~np.isnan(profile1) & matched  # the level only uses hours with a same-type profile
        plain = cls(
            frame=frame,
            lags=lags,
            csum_total=csum_total,
            profile_start=start,
            profile1=profile1,
            csum_profile=prefix(np.where(defined, profile1, 0.0)),
            csum_profile_n=prefix(defined.astype(np.int64)),
        )
        return plain if excluded is None else plain.excluding(excluded)

    @cached_property
    def csum_prior(self) -> np.ndarray:
        """Prefix sums of the time-of-day prior: only the recent mode reads them, so only on demand."""
        return prefix(bucket_multipliers(self.frame))

    def excluding(self, excluded: np.ndarray) -> Baseline:
        """The same baseline with `excluded` buckets kept out of the level and the recent rate.

        The profile does not depend on the exclusion, so an ongoing event costs no second build.
        """
        return replace(self, csum_excluded=prefix(excluded.astype(np.int64)))

    def clean(self, ends: np.ndarray, width: int) -> np.ndarray:
        """True where the `width` buckets ending at `ends` hold no excluded bucket."""
        if self.csum_excluded is None:
            return np.ones(ends.shape, dtype=bool)
        count, _ = window_sum(self.csum_excluded, ends, width)
        return count == 0

    def is_seasonal(self, pos: np.ndarray, width: int) -> np.ndarray:
        """True where the expected count comes from the seasonal profile, False in recent mode."""
        return ~np.isnan(self.profile(pos, width))

    def expected(self, pos: np.ndarray, width: int) -> np.ndarray:
        """Expected window sum (width buckets ending at each position); NaN = not enough history."""
        return self.expected_and_mode(pos, width)[0]

    def profile(self, pos: np.ndarray, width: int) -> np.ndarray:
        """`seasonal_profile` at `pos`: the same with or without exclusions (it reads no level)."""
        return seasonal_profile(self.frame, self.csum_total, self.lags, pos, width)

    def expected_and_mode(
        self, pos: np.ndarray, width: int, profile: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """`expected` and `is_seasonal` at once (the seasonal profile is the costly part of both).

        `profile` = `self.profile(pos, width)` when the caller has it already.
        """
        if profile is None:
            profile = self.profile(pos, width)
        seasonal = ~np.isnan(profile)
        # Each mode is computed only where it is used: every step of both is per position (no value
        # depends on another position), so the subsets give the same numbers as computing everywhere,
        # and a brand with a profile (the usual case) never pays for the recent mode.
        if seasonal.all():
            out = profile * self._level(pos, width)
        else:
            out = np.full(pos.shape[0], np.nan)
            if seasonal.any():
                out[seasonal] = profile[seasonal] * self._level(pos[seasonal], width)
            out[~seasonal] = self._recent(pos[~seasonal], width)
        floor = MIN_EXPECTED_PER_HOUR * width * self.frame.bucket_minutes / 60.0
        return np.where(np.isnan(out), np.nan, np.maximum(out, floor)), seasonal

    def _recent(self, pos: np.ndarray, width: int) -> np.ndarray:
        """Recent-mode expected window sums at `pos`, skipping excluded hours when that leaves enough."""
        frame, prior = self.frame, self.csum_prior
        clean = None if self.csum_excluded is None else self.clean
        recent = recent_expected(frame, self.csum_total, pos, width, clean, prior)
        if clean is not None:
            # Exclusion must never blind the detector: with too few clean hours left (an event that
            # opened early in a new brand's life), judge against the recent hours as they are.
            unclean = recent_expected(frame, self.csum_total, pos, width, csum_prior=prior)
            recent = np.where(np.isnan(recent), unclean, recent)
        return recent

    def _level(self, pos: np.ndarray, width: int) -> np.ndarray:
        """Median over the hours of the day before the test window of observed ÷ profile.

        Hours without a complete profile are skipped, and so are empty hours where the profile expects
        at least GAP_EXPECTED posts: that is a collection gap, not a quiet brand. Needs LEVEL_MIN_HOURS.
        """
        hour = buckets(60, self.frame.bucket_minutes)
        n_hours = round(LEVEL_DAYS * 24)
        ends = (pos - width)[:, None] - hour * np.arange(n_hours)[None, :]
        first = int(ends.min()) if ends.size else 0
        reach = int(ends.max()) - first + 1 if ends.size else 0
        if reach < ends.size:
            # The dispersion's past positions are a few buckets apart, so their days overlap: each hour
            # ending in the covered range is evaluated once and gathered (the same numbers, per hour).
            ratio, ok = self._hour_ratios(np.arange(first, first + reach, dtype=np.int64), hour)
            ratio, ok = ratio[ends - first], ok[ends - first]
        else:
            ratio, ok = self._hour_ratios(ends.ravel(), hour)
            ratio, ok = ratio.reshape(ends.shape), ok.reshape(ends.shape)
        level = median_of_valid(ratio.T, ok.T, LEVEL_MIN_HOURS)
        return np.where(np.isnan(level), 1.0, level)

    def _hour_ratios(self, ends: np.ndarray, hour: int) -> tuple[np.ndarray, np.ndarray]:
        """Per hour ending at `ends`: (observed + pseudo) ÷ (profile + pseudo), and whether it counts."""
        observed, known = window_sum(self.csum_total, ends, hour)
        a = clamp(ends - hour + 1 - self.profile_start, 0, self.profile1.shape[0])
        b = clamp(ends + 1 - self.profile_start, 0, self.profile1.shape[0])
        expected = (self.csum_profile[b] - self.csum_profile[a]) / profile_span(self.frame, 1)
        defined = (self.csum_profile_n[b] - self.csum_profile_n[a] == hour) & known
        defined &= ends - hour + 1 >= self.profile_start
        defined &= self.clean(ends, hour)
        gap = (observed == 0) & (expected >= GAP_EXPECTED)
        ratio = (observed + LEVEL_PSEUDO) / (expected + LEVEL_PSEUDO)
        return ratio, defined & ~gap


def seasonal_profile(
    frame: Frame, csum_total: np.ndarray, lags: tuple[int, ...], pos: np.ndarray, width: int
) -> np.ndarray:
    """Median window sum at the same brand-local time on earlier days; NaN with < MIN_LAGS days.

    Only days of the same type (working day, or off day: weekend or holiday; brand-local) vote when at
    least MIN_LAGS of them exist; until then all earlier days vote (`_profile` says which). Windows
    shorter than an hour are read on earlier days as the surrounding hour scaled down, so a sparse
    brand's profile is not the noise of one slot.
    """
    values, _ = _profile(frame, csum_total, lags, pos, width)
    return values


def _profile(
    frame: Frame,
    csum_total: np.ndarray,
    lags: tuple[int, ...],
    pos: np.ndarray,
    width: int,
    scaled: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(profile, same-type flag); unscaled = the median sum over the profile span (exact)."""
    if not lags:
        return np.full(pos.shape[0], np.nan), np.zeros(pos.shape[0], dtype=bool)
    values, valid, same = _lag_windows(frame, csum_total, lags, pos, width)
    median = median_of_valid(values, valid & same, MIN_LAGS)
    matched = ~np.isnan(median)
    # Where too few of those days are of the same type (a holiday on a weekday has only the weekend
    # before it), the days in between vote too if of that type; where even they are too few, all the
    # lag days do. The median is per column, so computing it on those columns alone gives the same
    # numbers (and usually there are none).
    if not matched.all():
        short = np.flatnonzero(~matched)
        between = tuple(j for j in range(1, max(lags) + 1) if j not in lags)
        if between:
            more, more_valid, more_same = _lag_windows(frame, csum_total, between, pos[short], width)
            median[short] = median_of_valid(
                np.vstack([values[:, short], more]),
                np.vstack([valid[:, short] & same[:, short], more_valid & more_same]),
                MIN_LAGS,
            )
            matched[short] = ~np.isnan(median[short])
        rest = ~matched
        if rest.any():
            median[rest] = median_of_valid(values[:, rest], valid[:, rest], MIN_LAGS)
    weekly = [k for k, lag in enumerate(lags) if lag in WEEKLY_LAGS]
    if len(weekly) == len(WEEKLY_LAGS):
        median = _with_weekday(median, values, valid & same, weekly)
    span = profile_span(frame, width)
    return (median * (width / span) if scaled else median), matched


def _with_weekday(
    median: np.ndarray, values: np.ndarray, usable: np.ndarray, weekly: list[int]
) -> np.ndarray:
    """The profile raised to the weekday's where each of the last three same weekdays stood clearly above
    the brand's other days of the last week at this hour (a weekly TV programme): to the least of the
    three, where it exceeds the median by more than WEEKDAY_MARGIN robust standard deviations of those
    other days' windows (at least MIN_LAGS of them). All three must, so one or two past bursts at that
    hour never raise the bar, and noise alone almost never does."""
    every_week = np.where(usable[weekly].all(axis=0), values[weekly].min(axis=0), np.nan)
    with np.errstate(invalid="ignore"):
        above = np.flatnonzero(every_week > median)  # the few positions worth the spread (same numbers)
    if not above.size:
        return median
    others = np.ones(values.shape[0], dtype=bool)
    others[weekly] = False
    rest, rest_ok = values[others][:, above], usable[others][:, above]
    center = median_of_valid(rest, rest_ok, MIN_LAGS)
    spread = MAD_TO_SD * median_of_valid(np.abs(rest - center[None, :]), rest_ok, MIN_LAGS)
    out = median.copy()
    with np.errstate(invalid="ignore"):
        clear = every_week[above] > median[above] + WEEKDAY_MARGIN * spread
    out[above] = np.where(clear, every_week[above], median[above])
    return out


def _lag_windows(
    frame: Frame, csum_total: np.ndarray, lags: tuple[int, ...], pos: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per lag (rows) and position: the profile-span sum on that earlier day, whether it is usable,
    and whether that day is of the same type (working or off) as the test window."""
    span = profile_span(frame, width)
    ahead = (span - width) // 2  # the earlier day's window extends this far past the slot
    here = clamp(pos, 0, frame.n - 1)
    # all lags at once (rows = lags): one call per array op instead of one per lag (the live hot path)
    raw = pos[None, :] - np.asarray(lags, dtype=np.int64)[:, None] * frame.per_day
    shift = frame.offset[here][None, :] - frame.offset[clamp(raw, 0, frame.n - 1)]
    idx = raw + shift + ahead
    sums, valid = window_sum(csum_total, idx.ravel(), span)
    values = sums.reshape(idx.shape)
    valid = valid.reshape(idx.shape) & (idx <= (pos - width)[None, :])
    # Same type at both ends of the span: a window across midnight (Friday evening into Saturday) is
    # compared only with windows across the same kind of midnight, never with a whole Saturday evening.
    same = same_kind_of_day(frame.off_day, (pos + ahead)[None, :], idx, span)
    return values, valid, same


def profile_span(frame: Frame, width: int) -> int:
    return max(width, buckets(60, frame.bucket_minutes))


def _trimmed_mean(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Column means of the valid entries with the largest dropped (when there are two or more)."""
    count = valid.sum(axis=0)
    total = np.where(valid, values, 0.0).sum(axis=0)
    largest = np.where(valid, values, -np.inf).max(axis=0)
    return (total - np.where(count >= 2, largest, 0.0)) / np.maximum(count - 1, 1)


def recent_expected(
    frame: Frame,
    csum_total: np.ndarray,
    pos: np.ndarray,
    width: int,
    clean: Callable[[np.ndarray, int], np.ndarray] | None = None,
    csum_prior: np.ndarray | None = None,
) -> np.ndarray:
    """Level of the last RECENT_HOURS hours before the window (largest dropped) × the window's prior.

    Each hour is divided by its mean time-of-day multiplier (prefix sums `csum_prior`; None = flat) and
    the window's expected sum is the level times the multipliers summed over the window, or the flat
    rate's sum when that is larger. Hours that `clean` rejects (they hold excluded buckets) are passed
    over for earlier ones.
    """
    hour = buckets(60, frame.bucket_minutes)
    sums = []
    weights = []
    valids = []
    for m in range(RECENT_LOOKBACK_HOURS if clean is not None else RECENT_HOURS):
        end = pos - width - m * hour
        s, v = window_sum(csum_total, end, hour)
        sums.append(s.astype(np.float64))
        weights.append(window_sum(csum_prior, end, hour)[0] / hour if csum_prior is not None else 1.0)
        valids.append(v & (clean(end, hour) if clean is not None else True))
    values = np.vstack(sums)
    weight = np.broadcast_to(np.vstack(weights), values.shape) if csum_prior is not None else 1.0
    valid = np.vstack(valids)
    valid &= np.cumsum(valid, axis=0) <= RECENT_HOURS  # the most recent usable hours only
    # an empty hour among busy ones is a collection gap, not part of the baseline
    busy = np.where(valid & (values > 0), values, 0.0).sum(axis=0)
    nonzero = (valid & (values > 0)).sum(axis=0)
    busy_mean = busy / np.maximum(nonzero, 1)
    valid = valid & ~((values == 0) & (busy_mean >= GAP_EXPECTED)[None, :])
    out = _trimmed_mean(values, valid) / hour * width
    if csum_prior is not None:
        with np.errstate(all="ignore"):
            level = _trimmed_mean(values / weight, valid)  # posts per hour at multiplier 1
        # The prior may only raise the expectation (the morning ramp); a brand whose day differs from
        # the population's must not be judged against a decline the prior predicts but it never had.
        out = np.maximum(out, level / hour * window_sum(csum_prior, pos, width)[0])
    count = valid.sum(axis=0)
    return np.where(count >= RECENT_MIN_HOURS, out, np.nan)
