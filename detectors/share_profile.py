"""The negative share's usual pattern: how much more (or less) negative a brand is at this hour, on
this kind of day.

The long-run share test (`detectors.negativity`) expects the brand's week: one share for every hour.
Some brands have a tone that turns at the same hours every day — a railway's rush-hour complaints, a
support line's evening backlog, a game's nightly maintenance — or on some kinds of day — crowds and
queues at a theme park or a restaurant chain at weekends, rush hours on working days only — and
against the week each such evening or Saturday is a shift of many points, which at high volume is far
beyond the sampling noise: an incident almost every evening or weekend. The brand's own history says
this is usual.

The offset of a window from the week's share is the sum of three parts, each learnt from earlier days
and each trusted only as far as the rule below allows:
- its kind of day (`DayKinds`, `day_kinds`): working days, or off days — Saturdays, Sundays and the
  brand's holidays (`detectors.offdays`) — from whole brand-local days up to SEARCH_DAYS back, against
  those days' pooled share (a window across midnight takes each kind by its share of the buckets);
- its hours: the pooled share of the same clock-time window on each of the last PROFILE_DAYS days, net
  of each day's kind, minus the week's share;
- what the nearest PROFILE_DAYS days of its own kind (within SEARCH_DAYS, matched at both ends of the
  window, as the volume profile's days are) add at these hours: rush hours on working days only.
Each pools its days without the highest and lowest quarter (up to four days are all kept), as the
week's blocks are: a flame-up on one day must not become the bar. With fewer than MIN_PROFILE_DAYS
such days (MIN_KIND_DAYS for a kind of day) a part has no opinion (0). A kind's offset is trusted no
more than its days allow: the sampling variance of its mean is never below the brand's day-to-day
variance within a kind (robust, over all its recent days) divided by the kind's days, so two weekend
days that happen to agree are not taken for certain, and a brand's weekends are known from its second
weekend on when its days' tones are steady.

The window is the test's own: widening a quarter of an hour to an hour around the same centre
blurred the edge where a tone turns (07:00 sharp for rush-hour complaints), and the quarter hour at
the edge alarmed — 5 false incidents instead of 2 on the benchmark's daily-tone brands, for no
recall; where a quarter hour holds too few posts to say what is usual, the trust rule below leaves
the week's bar.

How far to trust the offset is the brand's own: its sampling variance V is the spread of the day-by-day
residuals over the days behind it (never below the binomial variance of the posts behind it), and the
offset is shrunk by 1 − (TRUST_SE)² · V ÷ offset²: an hour that is many
standard errors more negative every day moves the expectation almost all the way, one within TRUST_SE
standard errors of the week does not move it. (With TRUST_SE = 1 this is the method-of-moments empirical
Bayes estimate with the offset's own prior variance, which trusts noise: at 1.5 s.e. it keeps half. On
the benchmark's flat-toned brands that moved the bar at random hours and opened one more false incident;
at 2 s.e. a brand whose tone does not depend on the hour keeps the week's bar almost everywhere.)
The test then adds the shrunk offset's remaining variance to the brand's between-day variance, so an
expectation learnt from few days is held loosely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detectors.series import MAD_TO_SD, Frame, clamp, median_of_valid, same_kind_of_day, window_sum

PROFILE_DAYS = 7
SEARCH_DAYS = 21  # how far back days of the same kind are looked for (three weekends: six off days)
MIN_PROFILE_DAYS = 3
MIN_KIND_DAYS = 2  # a kind of day has an opinion from its first weekend on (its variance floored)
TRUST_SE = 2.0  # an offset within this many standard errors of the week is not trusted (see above)


@dataclass(frozen=True)
class ShareProfile:
    """Per position, for one window width: the time-of-day offset of the expected share."""

    offset: np.ndarray  # shrunk offset from the week's share (0 where there is no opinion)
    variance: np.ndarray  # its remaining (posterior) variance


@dataclass(frozen=True)
class DayKinds:
    """Per position, the usual offset of the share on working days (row 0) and on off days (row 1) from
    the pooled share of the brand's recent days, and its remaining variance (`day_kinds`)."""

    offset: np.ndarray  # (2, positions)
    variance: np.ndarray  # (2, positions)

    def at(self, off_fraction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Offset and variance of windows with this fraction of their buckets on off days (positions
        on the last axis)."""
        work, off = self.offset
        work_var, off_var = self.variance
        return work + off_fraction * (off - work), work_var + off_fraction * (off_var - work_var)

    def take(self, part: np.ndarray) -> DayKinds:
        return DayKinds(self.offset[:, part], self.variance[:, part])


def day_kinds(frame: Frame, end: np.ndarray) -> DayKinds:
    """The kinds' offsets from the whole brand-local days before the one holding `end` (the baseline's
    last bucket per position), up to SEARCH_DAYS back, each against those days' pooled share (the
    central days of every kind, as the week's blocks are pooled): a brand whose evenings are always worse
    has both kinds at that share, and its hours, not its days, differ from the week. Days, not hours, are
    the unit: a day's tone holds through its hours, so its blocks are not separate evidence of what its
    kind is like."""
    last = frame.n - 1
    here = clamp(end, 0, last)
    minute = (int(frame.start.timestamp() // 60) + (here + frame.offset[here]) * frame.bucket_minutes) % 1440
    midnight = end - minute // frame.bucket_minutes  # the first bucket of the local day holding `end`
    shape = (1, SEARCH_DAYS, end.shape[0])
    ends = (midnight[None, :] - 1 - frame.per_day * np.arange(SEARCH_DAYS)[:, None]).ravel()
    tot, ok = window_sum(frame.csum_total, ends, frame.per_day)
    neg, _ = window_sum(frame.csum_negative, ends, frame.per_day)
    tot, neg = tot.reshape(shape).astype(np.float64), neg.reshape(shape).astype(np.float64)
    ok = ok.reshape(shape) & (tot > 0)
    share = np.where(ok, neg / np.where(ok, tot, 1.0), np.inf)
    pooled = _pooled(tot, neg, _central_days(share, ok))[0]
    off = frame.off_day[clamp(ends, 0, last)].reshape(shape)
    kinds = np.concatenate([~off, off]) & ok  # (kinds, days, positions)
    # How much one day's tone differs from another of its kind, robustly: a kind's few days are not the
    # only witness of how far their mean may be from the truth.
    own = _pooled(tot, neg, _central_days(np.where(kinds, share, np.inf), kinds))
    resid = np.abs(share[0] - np.where(off[0], own[1], own[0]))
    usable = ok[0] & ~np.isnan(resid)
    between = (MAD_TO_SD * np.nan_to_num(median_of_valid(resid, usable, MIN_KIND_DAYS), nan=0.0)) ** 2
    tot, neg = (np.broadcast_to(a, kinds.shape) for a in (tot, neg))
    offset, variance = trusted_offsets(tot, neg, kinds, pooled, between, MIN_KIND_DAYS)
    return DayKinds(offset, variance)


def _pooled(tot: np.ndarray, neg: np.ndarray, days: np.ndarray) -> np.ndarray:
    """The pooled share of the chosen days (axis 1), NaN where none."""
    with np.errstate(all="ignore"):
        return np.where(days, neg, 0.0).sum(axis=1) / np.where(days, tot, 0.0).sum(axis=1)


def profile_offsets(
    frame: Frame, pos: np.ndarray, widths: list[int], week: np.ndarray, kinds: DayKinds
) -> list[ShareProfile]:
    """The usual offset of the window of each width ending at each position from `week` (the week's
    share per position, NaN where unknown): its kind of day's, its hours' and what the nearest days of
    its kind add at these hours; one vectorised pass over widths × earlier days."""
    shape = (len(widths), SEARCH_DAYS, pos.shape[0])
    back = np.arange(1, SEARCH_DAYS + 1)[None, :, None] * frame.per_day
    at = np.broadcast_to(pos[None, None, :] - back, shape).ravel()
    width = np.broadcast_to(np.asarray(widths, dtype=np.int64)[:, None, None], shape).ravel()
    tot, ok = window_sum(frame.csum_total, at, width)
    neg, _ = window_sum(frame.csum_negative, at, width)
    off_then, _ = window_sum(frame.csum_off_day, at, width)
    tot, neg, ok = tot.reshape(shape), neg.reshape(shape), ok.reshape(shape)
    kind_then, _ = kinds.at(off_then.reshape(shape) / width.reshape(shape))
    recent = slice(0, PROFILE_DAYS)
    net = neg[:, recent] - tot[:, recent] * kind_then[:, recent]  # the hours, net of each day's kind
    hours, hours_variance = trusted_offsets(tot[:, recent], net, ok[:, recent], week)
    now_width = np.asarray(widths, dtype=np.int64)[:, None]
    off_now, _ = window_sum(frame.csum_off_day, np.broadcast_to(pos, (len(widths), pos.shape[0])), now_width)
    kind, kind_variance = kinds.at(off_now / now_width)
    alike = ok & same_kind_of_day(frame.off_day, pos[None, None, :], at.reshape(shape), width.reshape(shape))
    alike &= np.cumsum(alike, axis=1) <= PROFILE_DAYS  # the nearest days of the kind
    kind_hours, kind_hours_variance = trusted_offsets(tot, neg, alike, week + kind + hours)
    offset = kind + hours + kind_hours
    variance = kind_variance + hours_variance + kind_hours_variance
    return [ShareProfile(offset[k], variance[k]) for k in range(len(widths))]


def trusted_offsets(
    tot: np.ndarray,
    neg: np.ndarray,
    ok: np.ndarray,
    reference: np.ndarray,
    between: np.ndarray | float = 0.0,
    min_days: int = MIN_PROFILE_DAYS,
) -> tuple[np.ndarray, np.ndarray]:
    """Shrunk offsets from `reference` (a share per position, or per group and position) and their
    remaining variance, per group and position, from counts of shape (groups, days, positions): each
    group is one clock time (or one kind of day) seen on several days."""
    tot = tot.astype(np.float64)
    neg = neg.astype(np.float64)
    reference = np.broadcast_to(reference, (tot.shape[0], tot.shape[2]))
    valid = ok & (tot > 0)
    kept = _central_days(np.where(valid, neg / np.where(valid, tot, 1.0), np.inf), valid)
    k_tot = np.where(kept, tot, 0.0).sum(axis=1)
    k_neg = np.where(kept, neg, 0.0).sum(axis=1)
    days = kept.sum(axis=1)
    known = (days >= min_days) & ~np.isnan(reference)
    pi = np.nan_to_num(reference, nan=0.5)
    with np.errstate(all="ignore"):
        raw = np.where(known, k_neg / k_tot - pi, 0.0)
        share = neg / np.where(valid, tot, 1.0)
        resid = np.where(kept, share - (k_neg / k_tot)[:, None, :], 0.0)
        spread = (resid**2).sum(axis=1) / np.maximum(days - 1, 1) / np.maximum(days, 1)
        binomial = pi * (1.0 - pi) / np.maximum(k_tot, 1.0)
        variance = np.maximum(np.maximum(spread, binomial), between / np.maximum(days, 1))
        doubt = TRUST_SE**2 * variance / np.maximum(raw**2, 1e-12)
        trust = np.where(known, np.clip(1.0 - doubt, 0.0, 1.0), 0.0)
    return trust * raw, trust * variance


def _central_days(share: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The valid days without the highest and lowest quarter by share (axis 1 is the day), rounded down
    so that up to four days are all kept: a kind of day seen on four days has an opinion."""
    count = valid.sum(axis=1, keepdims=True)
    drop = (count - 1) // 4
    rank = np.argsort(np.argsort(share, axis=1, kind="stable"), axis=1, kind="stable")
    return valid & (rank >= drop) & (rank < count - drop)
