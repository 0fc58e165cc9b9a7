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

from detectors.calibration import preset
from detectors.negativity import SHARE_RULES
from detectors.volume import SCALES_MINUTES


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
    widths = [max(1, minutes // bucket_minutes) for minutes in SCALES_MINUTES]
    p_alert = float(stats.norm.sf(rule.z_alert)) / len(widths)
    c_obs = np.concatenate(([0.0], np.cumsum(counts, dtype=np.float64)))
    c_exp = np.concatenate(([0.0], np.cumsum(counterfactual, dtype=np.float64)))
    ends = np.arange(onset, min(horizon, counts.shape[0] - 1) + 1)
    fires = np.zeros(ends.shape[0], dtype=bool)
    for width in widths:
        lo = np.maximum(ends + 1 - width, 0)
        observed = c_obs[ends + 1] - c_obs[lo]
        expected = np.maximum(c_exp[ends + 1] - c_exp[lo], 0.5)
        pvalue = stats.poisson.sf(observed - 1, expected)
        fires |= (pvalue <= p_alert) & (observed >= rule.min_count) & (observed >= rule.min_ratio * expected)
    hits = np.flatnonzero(fires)
    return int(ends[hits[0]]) if hits.size else None


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
    widths = [max(1, minutes // bucket_minutes) for minutes in SCALES_MINUTES]
    p_alert = float(stats.norm.sf(share_rule.z_alert)) / len(widths)
    c_neg = np.concatenate(([0.0], np.cumsum(negative, dtype=np.float64)))
    c_tot = np.concatenate(([0.0], np.cumsum(total, dtype=np.float64)))
    c_exp = np.concatenate(([0.0], np.cumsum(total * true_share, dtype=np.float64)))
    ends = np.arange(onset, min(horizon, total.shape[0] - 1) + 1)
    fires = np.zeros(ends.shape[0], dtype=bool)
    for width in widths:
        lo = np.maximum(ends + 1 - width, 0)
        neg, tot, exp = (c[ends + 1] - c[lo] for c in (c_neg, c_tot, c_exp))
        p = np.clip(exp / np.maximum(tot, 1.0), 1e-9, 1.0)
        pvalue = stats.binom.sf(neg - 1, tot.astype(np.int64), p)
        excess = neg - exp
        with np.errstate(all="ignore"):
            delta = np.where(tot > 0, neg / tot - p, -1.0)
        fires |= (
            (pvalue <= p_alert)
            & (neg >= rule.min_negative)
            & (excess >= share_rule.min_excess)
            & (delta >= rule.min_share_delta)
        )
    hits = np.flatnonzero(fires)
    return int(ends[hits[0]]) if hits.size else None
