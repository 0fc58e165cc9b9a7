"""Negativity model: the negative share in a window against the brand's own baseline share.

Baseline share: the history before the last three hours is cut into 6-hour blocks (up to seven days);
the quarter of blocks with the highest share is dropped (a past flame-up does not raise the bar for a
week) and the rest pooled. An always-criticised brand therefore has a high baseline and is judged
against it. Over-dispersion between blocks (days differ in tone) is a beta-binomial intra-class
correlation estimated from the same blocks, shrunk to a small prior. The test is the beta-binomial upper
tail of the window's negative count given its total count, at the same scales as volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from detectors.series import Frame, buckets, prefix, window_sum

BLOCK_HOURS = 6
BASELINE_DAYS = 7
EXCLUDE_HOURS = 3  # the baseline ends this long before the evaluated bucket
MIN_BASELINE_POSTS = 30
MIN_BASELINE_BLOCKS = 2
RHO_PRIOR = 0.01
RHO_PRIOR_WEIGHT = 4.0  # in blocks
RHO_MIN, RHO_MAX = 0.002, 0.2


@dataclass(frozen=True)
class ShareBaseline:
    share: np.ndarray  # baseline negative share per position (NaN = not enough history)
    rho: np.ndarray  # beta-binomial intra-class correlation


@dataclass(frozen=True)
class ShareResult:
    label: str
    width: int
    negative: np.ndarray
    total: np.ndarray
    pvalue: np.ndarray  # 1 where no opinion
    authors: np.ndarray


def share_baseline(frame: Frame, pos: np.ndarray, days: int = BASELINE_DAYS) -> ShareBaseline:
    """Baseline share and over-dispersion at each position, from up to `days` of earlier blocks."""
    block = buckets(BLOCK_HOURS * 60, frame.bucket_minutes)
    n_blocks = max(1, round(min(days, BASELINE_DAYS) * 24 / BLOCK_HOURS))
    end = pos - buckets(EXCLUDE_HOURS * 60, frame.bucket_minutes)
    ends = end[:, None] - block * np.arange(n_blocks)[None, :]
    csum_total, csum_neg = prefix(frame.total), prefix(frame.negative)
    tot, valid = window_sum(csum_total, ends.ravel(), block)
    neg, _ = window_sum(csum_neg, ends.ravel(), block)
    tot = tot.reshape(ends.shape).astype(np.float64)
    neg = neg.reshape(ends.shape).astype(np.float64)
    valid = valid.reshape(ends.shape) & (tot > 0)
    share = np.where(valid, neg / np.where(valid, tot, 1.0), np.inf)
    count = valid.sum(axis=1)
    drop = count // 4
    # rank blocks by share (invalid last); drop the `drop` highest valid ones
    order = np.argsort(share, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(n_blocks)[None, :].repeat(pos.shape[0], axis=0), axis=1)
    kept = valid & (rank < (count - drop)[:, None])
    k_tot = np.where(kept, tot, 0.0).sum(axis=1)
    k_neg = np.where(kept, neg, 0.0).sum(axis=1)
    k_n = kept.sum(axis=1)
    pi = (k_neg + 0.5) / (k_tot + 1.0)
    enough = (k_tot >= MIN_BASELINE_POSTS) & (k_n >= MIN_BASELINE_BLOCKS)
    # beta-binomial intra-class correlation from the Pearson statistic over kept blocks
    var = pi * (1.0 - pi)
    expected_neg = tot * pi[:, None]
    pearson = np.where(kept, (neg - expected_neg) ** 2 / np.maximum(tot * var[:, None], 1e-12), 0.0)
    x2 = pearson.sum(axis=1)
    denom = np.where(kept, tot - 1.0, 0.0).sum(axis=1)
    raw = np.where(denom > 0, np.maximum(x2 - (k_n - 1), 0.0) / np.maximum(denom, 1.0), 0.0)
    rho = (k_n * raw + RHO_PRIOR_WEIGHT * RHO_PRIOR) / (k_n + RHO_PRIOR_WEIGHT)
    rho = np.clip(rho, RHO_MIN, RHO_MAX)
    return ShareBaseline(share=np.where(enough, pi, np.nan), rho=rho)


def evaluate_share(
    frame: Frame, baseline: ShareBaseline, pos: np.ndarray, label: str, width: int
) -> ShareResult:
    total, known = window_sum(prefix(frame.total), pos, width)
    negative, _ = window_sum(prefix(frame.negative), pos, width)
    authors, _ = window_sum(prefix(frame.authors), pos, width)
    pi = baseline.share
    opinion = known & ~np.isnan(pi) & (total > 0)
    pvalue = np.ones(pos.shape[0])
    if opinion.any():
        p = pi[opinion]
        weight = 1.0 / baseline.rho[opinion] - 1.0
        pvalue[opinion] = stats.betabinom.sf(
            negative[opinion] - 1, total[opinion], p * weight, (1 - p) * weight
        )
    return ShareResult(label, width, negative.astype(np.float64), total.astype(np.float64), pvalue, authors)


def betabinom_isf(pvalue: float, total: float, share: float, rho: float) -> float:
    weight = 1.0 / rho - 1.0
    return float(stats.betabinom.isf(pvalue, int(total), share * weight, (1 - share) * weight))
