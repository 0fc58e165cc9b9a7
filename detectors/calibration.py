"""Calibration: p-values to one comparable z-like score, sensitivity presets, floors and severity.

Every test yields an upper-tail p-value. With several scales per kind the smallest p-value is
Bonferroni-corrected by the number of scales, then mapped to the standard-normal quantile
z = Φ⁻¹(1 − p): the calibrated score (z 5 ≈ one chance in 3.5 million). Volume and negativity scores
are therefore on the same scale, as in Merlion's calibrator.

Severity (注意 / 警戒 / 炎上) combines magnitude × negativity × spread:
  index = log2(observed ÷ expected volume) + min(2, 6 × rise of the negative share over baseline)
  minus 1 when known unique authors are under 30 % of the posts (a few accounts, not a crowd).
  index ≥ 3.5 → flame (e.g. 5× volume with +20 points negative, or 11× volume alone),
  index ≥ 1.5 → warning (e.g. 2.8× volume, or +25 points negative at steady volume), else attention.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

Z_CAP = 37.0  # p below ~1e-300 cannot be told apart


@dataclass(frozen=True)
class Preset:
    """One sensitivity: thresholds of the alert condition and of 'still anomalous'."""

    z_alert: float  # calibrated score needed to alert
    z_active: float  # calibrated score that keeps an event active (hysteresis)
    min_count: int  # posts in the test window (volume)
    min_ratio: float  # observed ÷ expected (volume)
    min_authors: int  # unique authors in the test window, when authors are known
    min_negative: int  # negative posts in the test window (negativity)
    min_share_delta: float  # negative share above the baseline share (negativity)
    persistence: int  # consecutive buckets meeting the condition before a new event opens
    quiet_minutes: int  # an event ends after this long without anomalous buckets
    reflare_minutes: int  # an open event that fires again after this long without anomalous buckets
    # has flared again (a second wave: a news or まとめ pick-up hours later) and is signalled again


PRESETS: dict[str, Preset] = {
    "low": Preset(6.0, 4.0, 30, 2.0, 15, 15, 0.20, 2, 720, 180),
    "normal": Preset(5.0, 3.5, 15, 1.5, 8, 8, 0.12, 1, 720, 120),
    "high": Preset(4.0, 3.0, 8, 1.3, 5, 5, 0.08, 1, 360, 60),
}

RECENT_MIN_RATIO = 4.0  # volume floor while a brand has no daily profile yet (its first days)
RECENT_MAX_SCALE_MINUTES = 60  # and only these short scales may alert then
FLAME_INDEX = 3.5
WARNING_INDEX = 1.5
SPREAD_MIN_SHARE = 0.3


def preset(sensitivity: str) -> Preset:
    try:
        return PRESETS[sensitivity]
    except KeyError:
        raise ValueError(f"unknown sensitivity {sensitivity!r}; use one of {sorted(PRESETS)}") from None


def multiplicity(widths: list[int]) -> np.ndarray:
    """Bonferroni factor behind each scale's p-value: the number of scales tested together."""
    return np.full(len(widths), float(len(widths)))


def calibrate(pvalue: np.ndarray, tests: np.ndarray | float) -> np.ndarray:
    """Bonferroni over `tests` (per row of p-values), then z = Φ⁻¹(1 − p), capped."""
    factor = np.asarray(tests, dtype=np.float64)
    pv = np.asarray(pvalue, dtype=np.float64)
    if factor.ndim == 1 and pv.ndim == 2:
        factor = factor[:, None]
    p = np.clip(pv * factor, 1e-300, 1.0)
    # stats.norm.isf(p) is -ndtri(p) behind per-call argument checks that cost more than the quantile;
    # 0.0 - x (not -x) keeps its +0.0 at p = 0.5, so the result is bit-identical.
    return np.minimum(0.0 - special.ndtri(p), Z_CAP)


def alert_pvalue(p: Preset, tests: float) -> float:
    """Per-test p-value at the alert threshold (for upper bands)."""
    return float(special.ndtr(-p.z_alert)) / tests  # stats.norm.sf without its argument checks


def severity_index(
    ratio: np.ndarray, share_delta: np.ndarray, authors: np.ndarray, posts: np.ndarray
) -> np.ndarray:
    magnitude = np.log2(np.maximum(np.nan_to_num(ratio, nan=1.0), 1.0))
    negativity = np.minimum(2.0, 6.0 * np.maximum(np.nan_to_num(share_delta, nan=0.0), 0.0))
    few_accounts = (authors > 0) & (authors < SPREAD_MIN_SHARE * posts)
    return magnitude + negativity - few_accounts.astype(np.float64)


def severity_level(index: np.ndarray) -> np.ndarray:
    """1 attention, 2 warning, 3 flame."""
    return 1 + (index >= WARNING_INDEX).astype(np.int64) + (index >= FLAME_INDEX).astype(np.int64)
