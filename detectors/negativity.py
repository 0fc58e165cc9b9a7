"""Negativity model: the negative share in a window against the brand's own expected share.

Baseline: the history before the last three hours is cut into 6-hour blocks (up to seven days). The
share is pooled over the central half of the blocks ranked by share (a past flame-up, or a collection
hiccup, does not move the bar for a week), so an always-criticised brand is judged against its own
high share. Over-dispersion between blocks (days differ in tone) is the brand's own beta-binomial
intra-class correlation, from the median standardised block residual (robust, and not biased low the
way a trimmed Pearson sum is), shrunk to a small prior while few blocks exist. The expected share now is
then conditioned on the most recent block as far as the brand's history shows that tone persists from
one block to the next (see `_condition_on_recent`), which also narrows the over-dispersion. Each
window's expected share is that, plus the brand's usual offset at this hour on this kind of day
(`detectors.share_profile`): a tone that turns at the same hours every day, or at weekends and on
holidays, is the bar there; the blocks know their hours and kinds of day the same way.

The test is the beta-binomial upper tail of the window's negative count given its total, at 15 min,
1 h and 3 h; beside it, the step test (`detectors.share_step`) judges the same window against the
hours just before it, for a sudden change on a day whose tone differs from the week's. Their alert
condition (`share_conditions`) has thresholds of its own (`SHARE_RULES`) and a minimum of evidence in
counts: negatives in excess of total × expected share, so two negative posts out of three never alarm.
A series without negative counts (NAB) has a baseline share near zero and zero negatives in every
window: the test has p = 1 and never fires.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from detectors.series import MAD_TO_SD, Frame, buckets, clamp, median_of_valid, window_sum
from detectors.share_profile import MIN_PROFILE_DAYS, DayKinds, day_kinds, profile_offsets, trusted_offsets
from detectors.share_step import StepTest, step_tests

BLOCK_HOURS = 6
BASELINE_DAYS = 7
EXCLUDE_HOURS = 3  # the baseline ends this long before the evaluated bucket
MIN_BASELINE_POSTS = 30
MIN_BASELINE_BLOCKS = 2
RHO_PRIOR = 0.01
RHO_PRIOR_WEIGHT = 4.0  # in blocks
RHO_MIN, RHO_MAX = 0.002, 0.2
PERSISTENCE_PRIOR_PAIRS = 4.0  # pairs of consecutive blocks at zero covariance
WINSOR_SD = 2.5
PERSISTENCE_MAX = 0.5  # never take the recent block as certain: half of τ² always stays
PI_MIN = 0.001


@dataclass(frozen=True)
class ShareRule:
    """Per sensitivity, the negativity alert condition beyond the preset's share and count floors.

    The share test has its own thresholds: its null (beta-binomial with the brand's own between-block
    over-dispersion) is closer to the truth than the volume model's, and a lower bar is what lets a
    +25-point shift at a few dozen posts an hour be seen within the hour. `min_excess` is the minimum
    evidence in counts: negatives above total × baseline share in the window, so a brand with three
    posts cannot alarm on two negative ones whatever the p-value.
    """

    z_alert: float
    z_active: float
    min_excess: float
    z_support: float  # the long-run score a step alert needs beside its own z_alert (see share_step)


SHARE_RULES: dict[str, ShareRule] = {
    "low": ShareRule(5.0, 3.5, 8.0, 3.0),
    "normal": ShareRule(4.0, 3.0, 5.0, 2.0),
    "high": ShareRule(3.5, 2.5, 3.0, 1.5),
}


@dataclass(frozen=True)
class ShareBaseline:
    share: np.ndarray  # baseline negative share per position (NaN = not enough history)
    rho: np.ndarray  # beta-binomial intra-class correlation
    week: np.ndarray  # the week's pooled share before conditioning on the recent block (NaN as share)
    kinds: DayKinds  # the usual offsets of working and off days from the week


@dataclass(frozen=True)
class ShareResult:
    label: str
    width: int
    negative: np.ndarray
    total: np.ndarray
    pvalue: np.ndarray  # 1 where no opinion
    authors: np.ndarray
    step: StepTest  # the same window against the hours just before it
    expected: np.ndarray  # the expected share: the baseline's at this hour on this kind of day (NaN as it)
    rho: np.ndarray  # the test's intra-class correlation, with the time-of-day offset's uncertainty


def share_baseline(frame: Frame, pos: np.ndarray, days: int = BASELINE_DAYS) -> ShareBaseline:
    """Baseline share and over-dispersion at each position, from up to `days` of earlier blocks."""
    block = buckets(BLOCK_HOURS * 60, frame.bucket_minutes)
    n_blocks = max(1, round(min(days, BASELINE_DAYS) * 24 / BLOCK_HOURS))
    end = pos - buckets(EXCLUDE_HOURS * 60, frame.bucket_minutes)
    ends = end[:, None] - block * np.arange(n_blocks)[None, :]
    csum_total, csum_neg = frame.csum_total, frame.csum_negative
    tot, valid = window_sum(csum_total, ends.ravel(), block)
    neg, _ = window_sum(csum_neg, ends.ravel(), block)
    tot = tot.reshape(ends.shape).astype(np.float64)
    neg = neg.reshape(ends.shape).astype(np.float64)
    valid = valid.reshape(ends.shape) & (tot > 0)
    share = np.where(valid, neg / np.where(valid, tot, 1.0), np.inf)
    count = valid.sum(axis=1)
    drop = count // 4
    # rank blocks by share (invalid last); keep the central half of the valid ones
    order = np.argsort(share, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n_blocks)[None, :].repeat(pos.shape[0], axis=0), axis=1)
    kept = valid & (rank >= drop[:, None]) & (rank < (count - drop)[:, None])
    k_tot = np.where(kept, tot, 0.0).sum(axis=1)
    k_neg = np.where(kept, neg, 0.0).sum(axis=1)
    pi = (k_neg + 0.5) / (k_tot + 1.0)
    enough = (k_tot >= MIN_BASELINE_POSTS) & (kept.sum(axis=1) >= MIN_BASELINE_BLOCKS)
    # each block's usual share: the week's plus its kind of day's and its hours' offsets
    off = frame.off_day[clamp(ends - block // 2, 0, frame.n - 1)]
    kinds = day_kinds(frame, end)
    kind = np.where(off, kinds.offset[1][:, None], kinds.offset[0][:, None])
    hours = _block_hours(tot, neg - tot * kind, valid, pi)
    usual = np.clip(pi[:, None] + kind + hours, PI_MIN, 1.0 - PI_MIN)
    rho = block_rho(neg, tot, valid, usual)
    week = np.where(enough, pi, np.nan)
    pi, rho = _condition_on_recent(share, tot, valid, pi, rho, usual)
    return ShareBaseline(share=np.where(enough, pi, np.nan), rho=rho, week=week, kinds=kinds)


def _block_hours(tot: np.ndarray, neg: np.ndarray, valid: np.ndarray, week: np.ndarray) -> np.ndarray:
    """Each block's time-of-day offset from the week (`detectors.share_profile`), from the blocks at
    the same hours on the other days (`neg` net of each block's kind of day): a brand that is always
    more negative in the evening, or at weekends, has such blocks above its week, and that is not
    over-dispersion between days."""
    n, k = tot.shape
    phases = 24 // BLOCK_HOURS
    if k % phases or k // phases < MIN_PROFILE_DAYS:
        return np.zeros_like(tot)

    def by_hours(a: np.ndarray) -> np.ndarray:  # (positions, blocks) → (phases, days, positions)
        return a.reshape(n, k // phases, phases).transpose(2, 1, 0)

    offset, _ = trusted_offsets(by_hours(tot), by_hours(neg), by_hours(valid), week)
    return offset.T[:, np.arange(k) % phases]


def block_rho(neg: np.ndarray, tot: np.ndarray, valid: np.ndarray, usual: np.ndarray) -> np.ndarray:
    """Beta-binomial intra-class correlation from the blocks' standardised residuals, robustly.

    The median absolute standardised residual (× 1.4826) estimates the blocks' variance factor
    1 + (n − 1)·rho at the median block size n; a median is not moved by a past flame-up, and unlike
    a trimmed Pearson sum it is not biased low. Shrunk towards RHO_PRIOR while few blocks exist.
    `usual` is each block's expected share (positions × blocks).
    """
    sd = np.sqrt(np.maximum(tot * usual * (1.0 - usual), 1e-12))
    resid = np.abs(neg - tot * usual) / sd
    med = median_of_valid(resid.T, valid.T, MIN_BASELINE_BLOCKS)
    size = median_of_valid(tot.T, valid.T, MIN_BASELINE_BLOCKS)
    factor = (MAD_TO_SD * np.nan_to_num(med, nan=0.0)) ** 2
    raw = np.maximum(factor - 1.0, 0.0) / np.maximum(np.nan_to_num(size, nan=1.0) - 1.0, 1.0)
    k_n = valid.sum(axis=1)
    rho = (k_n * raw + RHO_PRIOR_WEIGHT * RHO_PRIOR) / (k_n + RHO_PRIOR_WEIGHT)
    return np.clip(rho, RHO_MIN, RHO_MAX)


def evaluate_shares(
    frame: Frame, baseline: ShareBaseline, pos: np.ndarray, scales: list[tuple[str, int]]
) -> list[ShareResult]:
    """The long-run share test and the step test (`detectors.share_step`) at `pos` for each scale.

    All scales' long-run tails go through one `stats.betabinom.sf` call: its per-call argument handling
    costs more than the few tails of a live tick, and it computes each element on its own, so batching
    the scales changes no number.
    """
    results: list[ShareResult] = []
    opinions: list[np.ndarray] = []
    widths = [width for _, width in scales]
    steps = step_tests(frame, pos, widths)
    profiles = profile_offsets(frame, pos, widths, baseline.week, baseline.kinds)
    latent = baseline.share * (1.0 - baseline.share) * baseline.rho
    for (label, width), step, profile in zip(scales, steps, profiles, strict=True):
        total, known = window_sum(frame.csum_total, pos, width)
        negative, _ = window_sum(frame.csum_negative, pos, width)
        authors, _ = window_sum(frame.csum_authors, pos, width)
        opinions.append(known & ~np.isnan(baseline.share) & (total > 0))
        pvalue = np.ones(pos.shape[0])
        expected = np.clip(baseline.share + profile.offset, PI_MIN, 1.0 - PI_MIN)
        rho = np.clip((latent + profile.variance) / (expected * (1.0 - expected)), RHO_MIN, RHO_MAX)
        results.append(
            ShareResult(
                label,
                width,
                negative.astype(np.float64),
                total.astype(np.float64),
                pvalue,
                authors,
                step,
                expected,
                np.nan_to_num(rho, nan=RHO_PRIOR),
            )
        )
    if any(opinion.any() for opinion in opinions):
        pairs = list(zip(results, opinions, strict=True))
        negative = np.concatenate([r.negative[o] for r, o in pairs]).astype(np.int64)
        total = np.concatenate([r.total[o] for r, o in pairs]).astype(np.int64)
        p = np.concatenate([r.expected[o] for r, o in pairs])
        weight = np.concatenate([1.0 / r.rho[o] - 1.0 for r, o in pairs])
        tails = stats.betabinom.sf(negative - 1, total, p * weight, (1 - p) * weight)
        for (r, o), part in zip(
            pairs, np.split(tails, np.cumsum([o.sum() for _, o in pairs])[:-1]), strict=True
        ):
            r.pvalue[o] = part
    return results


def betabinom_isf(pvalue: float, total: float, share: float, rho: float) -> float:
    weight = 1.0 / rho - 1.0
    return float(stats.betabinom.isf(pvalue, int(total), share * weight, (1 - share) * weight))


@dataclass(frozen=True)
class ShareConditions:
    """Per scale (rows) and position (columns): the negativity alert condition and its hysteresis."""

    qualify: np.ndarray
    active: np.ndarray
    delta: np.ndarray  # window share minus baseline share (-1 where there is no opinion)
    score: np.ndarray  # the long-run score, or the step score where only the step test qualifies
    step: np.ndarray  # only the step test qualifies


def share_conditions(
    results: list[ShareResult],
    score: np.ndarray,
    step_score: np.ndarray,
    rule: ShareRule,
    min_negative: int,
    min_share_delta: float,
    min_authors: int,
) -> ShareConditions:
    """The long-run test over the share rule's threshold, or the step test over it with the long-run
    score over `z_support`; and every floor (share points, negatives, excess, authors), against the
    usual share (this hour, this kind of day) and, for a step, against the step test's expected share
    too (the reference's, plus the change the brand usually makes at this hour)."""
    neg = np.vstack([r.negative for r in results])
    total = np.vstack([r.total for r in results])
    authors = np.vstack([r.authors for r in results]).astype(np.float64)
    stepped = np.vstack([r.step.share for r in results])
    pi = np.vstack([r.expected for r in results])
    with np.errstate(all="ignore"):
        share = np.where(total > 0, neg / total, np.nan)
        delta = np.nan_to_num(share - pi, nan=-1.0)
        excess = np.nan_to_num(neg - total * pi, nan=0.0)
        step_delta = np.nan_to_num(share - stepped, nan=-1.0)
        step_excess = np.nan_to_num(neg - total * stepped, nan=0.0)
    authors_ok = (authors == 0) | (authors >= min_authors)
    floors = (neg >= min_negative) & (excess >= rule.min_excess) & (delta >= min_share_delta) & authors_ok
    long_run = (score >= rule.z_alert) & floors
    step = (
        (step_score >= rule.z_alert)
        & (score >= rule.z_support)
        & floors
        & (step_excess >= rule.min_excess)
        & (step_delta >= min_share_delta)
    )
    qualify = long_run | step
    active = (score >= rule.z_active) & (excess >= rule.min_excess / 2) & (delta >= min_share_delta / 2)
    step_only = step & ~long_run
    reported = np.where(step_only, step_score, score)
    return ShareConditions(qualify, active | qualify, delta, reported, step_only)


def _condition_on_recent(
    share: np.ndarray,
    tot: np.ndarray,
    valid: np.ndarray,
    pi: np.ndarray,
    rho: np.ndarray,
    usual: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Today's expected share: the baseline moved towards the most recent block as far as history says.

    A brand's tone persists for hours, so the block just before the gap says something about the
    share now. How much is the brand's own: the covariance of consecutive blocks' residuals (sampling
    noise is independent between blocks, so it measures the latent share's persistence r), shrunk to
    zero while few pairs exist, and capped at PERSISTENCE_MAX. With latent variance τ² = π(1−π)·rho and
    the recent block's sampling variance σ², the best linear predictor moves π by β = r·τ² ÷ (τ² + σ²)
    of the recent residual (winsorised at ±WINSOR_SD so a flame-up just before the gap cannot carry the
    bar far), and leaves the latent variance τ²·(1 − r·β): the rho of the test. Residuals are from
    each block's `usual` share (its hours' and its kind of day's offsets included): an afternoon block
    is not evidence that today is calm because the brand's evenings are always worse.
    """
    resid = np.where(valid, share - usual, 0.0)
    pairs = valid[:, :-1] & valid[:, 1:]
    cross = np.where(pairs, resid[:, :-1] * resid[:, 1:], 0.0).sum(axis=1)
    cov = cross / (pairs.sum(axis=1) + PERSISTENCE_PRIOR_PAIRS)
    var_pi = pi * (1.0 - pi)
    tau2 = var_pi * rho
    r = np.clip(cov / tau2, 0.0, PERSISTENCE_MAX)
    recent_ok = valid[:, 0]
    sigma2 = var_pi / np.where(recent_ok, tot[:, 0], 1.0)
    beta = np.where(recent_ok, r * tau2 / (tau2 + sigma2), 0.0)
    limit = WINSOR_SD * np.sqrt(tau2 + sigma2)
    moved = np.clip(pi + beta * np.clip(resid[:, 0], -limit, limit), PI_MIN, 1.0 - PI_MIN)
    tau2_now = tau2 * (1.0 - r * beta)
    rho_now = np.clip(tau2_now / (moved * (1.0 - moved)), RHO_MIN, RHO_MAX)
    return moved, rho_now
