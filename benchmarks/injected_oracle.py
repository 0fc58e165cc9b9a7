"""Oracles for the injected events: how soon an event is visible at all, to read the detector's latency by.

The oracle knows what no detector can: the counts the series would have had without the burst. At
each bucket from the onset it tests, for every scale the detector uses (15 min, 1 h, 3 h), the
window's observed count against a Poisson with the counterfactual count as its mean — no
over-dispersion, no estimation error — at the production threshold (`normal`: z ≥ 5 after the same
Bonferroni over the scales) and with the same floors on posts and on observed ÷ expected. Its first
alert is a lower bound on the latency of any detector held to that false-alarm level: a burst that
the oracle sees only after 20 minutes cannot be caught in 15 by a sound test.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from detectors.calibration import multiplicity, preset
from detectors.negativity import SHARE_RULES
from detectors.series import prefix, window_sum
from detectors.volume import scale_widths


def _alert_pvalue(z_alert: float, widths: list[int]) -> float:
    """The per-scale p-value at the threshold, after the detector's Bonferroni over its scales."""
    return float(stats.norm.sf(z_alert)) / float(multiplicity(widths)[0])


def _first_hit(ends: np.ndarray, fires: np.ndarray) -> int | None:
    hits = np.flatnonzero(fires)
    return int(ends[hits[0]]) if hits.size else None


def oracle_first_alert(
    counts: np.ndarray,
    counterfactual: np.ndarray,
    onset: int,
    horizon: int,
    bucket_minutes: int,
    sensitivity: str = "normal",
) -> int | None:
    """The first bucket in [onset, horizon] where the oracle alerts (None: never)."""
    rule = preset(sensitivity)
    widths = [width for _, width in scale_widths(bucket_minutes)]
    p_alert = _alert_pvalue(rule.z_alert, widths)
    c_obs, c_exp = prefix(counts.astype(np.float64)), prefix(counterfactual.astype(np.float64))
    ends = np.arange(onset, min(horizon, counts.shape[0] - 1) + 1)
    fires = np.zeros(ends.shape[0], dtype=bool)
    for width in widths:
        observed = window_sum(c_obs, ends, width)[0]
        expected = np.maximum(window_sum(c_exp, ends, width)[0], 0.5)
        pvalue = stats.poisson.sf(observed - 1, expected)
        fires |= (pvalue <= p_alert) & (observed >= rule.min_count) & (observed >= rule.min_ratio * expected)
    return _first_hit(ends, fires)


def oracle_first_share_alert(
    negative: np.ndarray,
    total: np.ndarray,
    true_share: np.ndarray,
    onset: int,
    horizon: int,
    bucket_minutes: int,
    sensitivity: str = "normal",
) -> int | None:
    """The first bucket in [onset, horizon] where a negativity oracle alerts (None: never).

    It knows each bucket's true negative probability without the shift (the day's share, which the
    detector must estimate from history) and tests the window's negatives against a binomial at the
    production negativity threshold and floors (`detectors.negativity.SHARE_RULES`, the presets' minimum
    negatives and share points): the bound set by sampling noise alone.
    """
    rule, share_rule = preset(sensitivity), SHARE_RULES[sensitivity]
    widths = [width for _, width in scale_widths(bucket_minutes)]
    p_alert = _alert_pvalue(share_rule.z_alert, widths)
    c_neg, c_tot = prefix(negative.astype(np.float64)), prefix(total.astype(np.float64))
    c_exp = prefix((total * true_share).astype(np.float64))
    ends = np.arange(onset, min(horizon, total.shape[0] - 1) + 1)
    fires = np.zeros(ends.shape[0], dtype=bool)
    for width in widths:
        neg, tot, exp = (window_sum(c, ends, width)[0] for c in (c_neg, c_tot, c_exp))
        p = np.clip(exp / np.maximum(tot, 1.0), 1e-9, 1.0)
        pvalue = stats.binom.sf(neg - 1, tot.astype(np.int64), p)
        with np.errstate(all="ignore"):
            delta = np.where(tot > 0, neg / tot - p, -1.0)
        fires |= (
            (pvalue <= p_alert)
            & (neg >= rule.min_negative)
            & (neg - exp >= share_rule.min_excess)
            & (delta >= rule.min_share_delta)
        )
    return _first_hit(ends, fires)
