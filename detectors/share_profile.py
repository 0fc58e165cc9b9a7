"""The negative share's time of day: how much more (or less) negative a brand usually is at this hour.

The long-run share test (`detectors.negativity`) expects the brand's week: one share for every hour.
Some brands have a tone that turns at the same hours every day — a railway's rush-hour complaints, a
support line's evening backlog, a game's nightly maintenance — and against the week each such evening
is a shift of many points, which at high volume is far beyond the sampling noise: an incident almost
every evening. The brand's own history says this is usual.

The offset at a window is the pooled share of the same clock-time window on each of the last
PROFILE_DAYS days, minus the week's share, with the highest and lowest days left out as the week's
blocks are (a flame-up at the same hour one day must not become the bar). The window is the test's own:
widening a quarter of an hour to an hour around the same centre blurred the edge where a tone turns
(07:00 sharp for rush-hour complaints), and the quarter hour at the edge alarmed — 5 false incidents
instead of 2 on the benchmark's daily-tone brands, for no recall; where a quarter hour holds too few
posts to say what is usual, the trust rule below leaves the week's bar.

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

from detectors.series import Frame, window_sum

PROFILE_DAYS = 7
MIN_PROFILE_DAYS = 3
TRUST_SE = 2.0  # an offset within this many standard errors of the week is not trusted (see above)


@dataclass(frozen=True)
class ShareProfile:
    """Per position, for one window width: the time-of-day offset of the expected share."""

    offset: np.ndarray  # shrunk offset from the week's share (0 where there is no opinion)
    variance: np.ndarray  # its remaining (posterior) variance


def profile_offsets(frame: Frame, pos: np.ndarray, widths: list[int], week: np.ndarray) -> list[ShareProfile]:
    """The time-of-day offset of the window of each width ending at each position, against `week` (the
    week's share per position, NaN where unknown); one vectorised pass over widths × earlier days."""
    shape = (len(widths), PROFILE_DAYS, pos.shape[0])
    back = np.arange(1, PROFILE_DAYS + 1)[None, :, None] * frame.per_day
    at = np.broadcast_to(pos[None, None, :] - back, shape).ravel()
    width = np.broadcast_to(np.asarray(widths, dtype=np.int64)[:, None, None], shape).ravel()
    tot, ok = window_sum(frame.csum_total, at, width)
    neg, _ = window_sum(frame.csum_negative, at, width)
    offset, variance = trusted_offsets(tot.reshape(shape), neg.reshape(shape), ok.reshape(shape), week)
    return [ShareProfile(offset[k], variance[k]) for k in range(len(widths))]


def trusted_offsets(
    tot: np.ndarray, neg: np.ndarray, ok: np.ndarray, week: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Shrunk offsets from `week` and their remaining variance, per group and position, from counts of
    shape (groups, days, positions): each group is one clock time seen on several days."""
    tot = tot.astype(np.float64)
    neg = neg.astype(np.float64)
    valid = ok & (tot > 0)
    kept = _central_days(np.where(valid, neg / np.where(valid, tot, 1.0), np.inf), valid)
    k_tot = np.where(kept, tot, 0.0).sum(axis=1)
    k_neg = np.where(kept, neg, 0.0).sum(axis=1)
    days = kept.sum(axis=1)
    known = (days >= MIN_PROFILE_DAYS) & ~np.isnan(week)[None, :]
    pi = np.nan_to_num(week, nan=0.5)[None, :]
    with np.errstate(all="ignore"):
        raw = np.where(known, k_neg / k_tot - pi, 0.0)
        share = neg / np.where(valid, tot, 1.0)
        resid = np.where(kept, share - (k_neg / k_tot)[:, None, :], 0.0)
        spread = (resid**2).sum(axis=1) / np.maximum(days - 1, 1) / np.maximum(days, 1)
        binomial = pi * (1.0 - pi) / np.maximum(k_tot, 1.0)
        variance = np.maximum(spread, binomial)
        doubt = TRUST_SE**2 * variance / np.maximum(raw**2, 1e-12)
        trust = np.where(known, np.clip(1.0 - doubt, 0.0, 1.0), 0.0)
    return trust * raw, trust * variance


def _central_days(share: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The valid days without the highest and lowest quarter by share (axis 1 is the day)."""
    count = valid.sum(axis=1, keepdims=True)
    drop = count // 4
    rank = np.argsort(np.argsort(share, axis=1, kind="stable"), axis=1, kind="stable")
    return valid & (rank >= drop) & (rank < count - drop)
