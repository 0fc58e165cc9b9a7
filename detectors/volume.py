"""Volume model: negative-binomial upper tail of the window count against the expected count.

For each time scale (a sudden burst over 15 minutes, an hour, a slow burn over three hours) the window
sum is compared with the baseline's expected window sum. Over-dispersion is the brand's own: the
relative residuals (observed − expected) ÷ expected of the previous two days, taken at non-overlapping
windows, give a robust variance (interquartile range) from which the Poisson part is removed; the rest is
the negative binomial's 1/size. It is shrunk towards a prior while few residuals exist, so a new brand
starts conservative. The output per scale is an upper-tail p-value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from detectors.baseline import Baseline
from detectors.series import buckets, clamp, window_sum

SCALES_MINUTES: tuple[int, ...] = (15, 60, 180)
DISPERSION_DAYS = 2.0
DISPERSION_PRIOR = 0.05  # relative variance beyond Poisson (≈ 22 % relative s.d.) before data speaks
DISPERSION_PRIOR_WEIGHT = 8.0  # in residuals
DISPERSION_MIN = 0.005
# In recent mode the residuals mostly measure the daily cycle the recent baseline cannot see, not the
# noise around it; dispersion is capped there and the engine's larger ratio floor guards instead.
RECENT_MODE_MAX_DISPERSION = 0.1
IQR_TO_SD = 1.349
TAIL_QUANTILE = 0.9
TAIL_TO_SD = float(stats.norm.isf(1 - TAIL_QUANTILE))


def scale_label(minutes: int) -> str:
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def scale_widths(bucket_minutes: int) -> list[tuple[str, int]]:
    """(label, width in buckets) per scale, without duplicates when buckets are coarse."""
    out: list[tuple[str, int]] = []
    seen: set[int] = set()
    for minutes in SCALES_MINUTES:
        width = buckets(minutes, bucket_minutes)
        if width not in seen and width * bucket_minutes >= min(minutes, bucket_minutes):
            seen.add(width)
            out.append((scale_label(width * bucket_minutes), width))
    return out


MAX_RESIDUALS = 192


def dispersion_grid(width: int, bucket_minutes: int) -> tuple[int, int]:
    """(step, count): residual windows end every `step` buckets over the previous DISPERSION_DAYS.

    Windows overlap for the longer scales (a quarter-window step) so a 3-hour scale still has a few
    dozen residuals; at most MAX_RESIDUALS are kept to bound the work.
    """
    span = round(DISPERSION_DAYS * 1440 / bucket_minutes)
    step = max(1, -(-width // 4), -(-span // MAX_RESIDUALS))
    return step, max(4, span // step)


@dataclass(frozen=True)
class ScaleResult:
    """Per evaluated position, for one scale."""

    label: str
    width: int
    observed: np.ndarray
    expected: np.ndarray  # NaN = no opinion
    phi: np.ndarray  # NB relative over-dispersion (variance = mu + phi mu^2)
    pvalue: np.ndarray  # upper tail P(X >= observed); 1 where no opinion
    authors: np.ndarray  # summed per-bucket unique authors in the window (0 = unknown)
    seasonal: np.ndarray  # True where the expected count knows the time of day (False: recent mode)
    frame_minutes: int = 5  # bucket minutes, so width * frame_minutes is the scale in minutes
    expected_all: np.ndarray | None = None  # dense evaluation: expected window sum at every position


def estimate_phi(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Row-wise NB over-dispersion from residual windows (rows = evaluated positions).

    The larger of two robust estimates: the body (interquartile range) and the upper tail (the
    TAIL_QUANTILE-quantile above the median, read as a normal quantile), each minus the Poisson part.
    A brand whose counts are routinely bursty gets a heavier tail and does not page on its usual bursts.
    """
    valid = ~np.isnan(expected) & (expected > 0)
    mu = np.where(valid, expected, 1.0)
    rel = np.where(valid, (observed - mu) / mu, np.nan)
    n = valid.sum(axis=1)
    with np.errstate(all="ignore"):
        q25, q50, q75, qtail = _rowwise_quantiles(rel, valid, (0.25, 0.5, 0.75, TAIL_QUANTILE))
        poisson = _rowwise_quantiles(np.where(valid, 1.0 / mu, np.nan), valid, (0.5,))[0]
    body = (q75 - q25) / IQR_TO_SD
    tail = (qtail - q50) / TAIL_TO_SD
    sd = np.maximum(body, tail)
    raw = np.where(n >= 8, np.maximum(sd * sd - poisson, 0.0), 0.0)
    used = np.where(n >= 8, n, 0)
    phi = (used * raw + DISPERSION_PRIOR_WEIGHT * DISPERSION_PRIOR) / (used + DISPERSION_PRIOR_WEIGHT)
    return np.maximum(phi, DISPERSION_MIN)


def _rowwise_quantiles(values: np.ndarray, valid: np.ndarray, qs: tuple[float, ...]) -> list[np.ndarray]:
    """Linear-interpolated quantiles of each row's valid entries (NaN for an empty row).

    All quantiles are read from one sort in one set of array operations (columns = quantiles): the
    live tick has a single row, so the per-operation overhead, not the arithmetic, is the cost.
    """
    ordered = np.sort(np.where(valid, values, np.inf), axis=1)
    n = valid.sum(axis=1)[:, None]
    h = (np.maximum(n, 1) - 1) * np.asarray(qs, dtype=np.float64)[None, :]
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    rows = np.arange(ordered.shape[0])[:, None]
    a, b = ordered[rows, lo], ordered[rows, hi]
    frac = h - lo
    value = np.where(frac == 0, a, a + (b - a) * frac)
    return list(np.where(n > 0, value, np.nan).T)


# `stats.nbinom.sf` / `.isf` check, broadcast and mask their arguments on every call, which costs more
# than the tail itself for the live tick's few values. The two functions below call the very ufuncs those
# methods evaluate (scipy's Boost wrappers, in the private `scipy.special._ufuncs`) and reproduce their
# handling of the support's edge and of invalid parameters, so the numbers are bit-identical.
# (The public `special.betaincc` computes the same tail but differs in the last bits; `nbdtrc`
# truncates the non-integer size.) A scipy that moves them gets the public methods: slower, same numbers
# (tests/detectors/test_nb_tail.py holds both paths to `stats.nbinom`).
try:
    from scipy.special._ufuncs import _nbinom_isf, _nbinom_sf
except ImportError:  # pragma: no cover - depends on the installed scipy
    _nbinom_isf = _nbinom_sf = None


def nb_sf(observed: np.ndarray, mu: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """P(X >= observed) for X ~ NB(mean mu, variance mu + phi mu^2); as `stats.nbinom.sf(observed - 1)`."""
    size = 1.0 / phi
    prob = size / (size + mu)
    if _nbinom_sf is None:
        return np.asarray(stats.nbinom.sf(observed - 1, size, prob), dtype=np.float64)
    k = np.asarray(observed - 1, dtype=np.float64)
    valid = (size > 0) & (prob > 0) & (prob <= 1) & ~np.isnan(k)
    tail = np.minimum(np.maximum(_nbinom_sf(np.floor(np.maximum(k, 0.0)), size, prob), 0.0), 1.0)
    return np.where(valid, np.where(k < 0, 1.0, tail), np.nan)


def nb_isf(pvalue: float, mu: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Smallest count c with P(X >= c + 1) <= pvalue: the upper band (as `stats.nbinom.isf`)."""
    size = 1.0 / phi
    prob = size / (size + mu)
    if _nbinom_isf is None or not 0.0 < pvalue < 1.0:  # scipy's conventions at the ends
        return np.asarray(stats.nbinom.isf(pvalue, size, prob), dtype=np.float64)
    valid = (size > 0) & (prob > 0) & (prob <= 1)
    with np.errstate(over="ignore"):  # as scipy (its gh-17432)
        band = _nbinom_isf(pvalue, size, prob)
    return np.where(valid, band, np.nan)


def _expected_now_and_past(
    baseline: Baseline, plain: Baseline, pos: np.ndarray, past: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(expected, seasonal) at `pos` from `baseline` and the expected counts at `past` from `plain`.

    One pass over both sets of positions (every step is per position, so batching them changes no
    number): the seasonal profile ignores exclusions, so it is shared even when the two differ.
    """
    both = np.concatenate([pos, past])
    n = pos.shape[0]
    if plain is baseline:
        expected, seasonal = baseline.expected_and_mode(both, width)
        return expected[:n], seasonal[:n], expected[n:]
    profile = baseline.profile(both, width)
    expected, seasonal = baseline.expected_and_mode(pos, width, profile[:n])
    past_exp, _ = plain.expected_and_mode(past, width, profile[n:])
    return expected, seasonal, past_exp


def evaluate_scale(
    baseline: Baseline,
    pos: np.ndarray,
    label: str,
    width: int,
    dense: bool,
    plain: Baseline | None = None,
    plain_all: np.ndarray | None = None,
) -> ScaleResult:
    """Observed vs expected at `pos` for one scale, with the over-dispersion of the previous two days.

    `dense` = `pos` is every position of the frame (replay): expected counts are then computed once and
    gathered; otherwise only the positions needed are computed. Both give identical numbers.
    When `baseline` excludes an ongoing event, the dispersion's residuals are those of the plain model
    (`plain`, or its expected counts at every position, `plain_all`) over windows clear of the event:
    the event's own buckets do not count as the brand's usual noise.
    """
    frame = baseline.frame
    observed, known = window_sum(baseline.csum_total, pos, width)
    step, k = dispersion_grid(width, frame.bucket_minutes)
    past = (pos[:, None] - width - step * np.arange(k)[None, :]).ravel()
    past_obs, past_known = window_sum(baseline.csum_total, past, width)
    everything = None
    if dense:
        everything, seasonal_all = baseline.expected_and_mode(np.arange(frame.n, dtype=np.int64), width)
        expected, seasonal = everything[pos], seasonal_all[pos]
        past_exp = everything[clamp(past, 0, frame.n - 1)]
    elif plain_all is not None:
        expected, seasonal = baseline.expected_and_mode(pos, width)
        past_exp = plain_all[clamp(past, 0, frame.n - 1)]
    else:
        expected, seasonal, past_exp = _expected_now_and_past(baseline, plain or baseline, pos, past, width)
    expected = np.where(known, expected, np.nan)
    past_exp = np.where(past_known & baseline.clean(past, width), past_exp, np.nan)
    shape = (pos.shape[0], k)
    phi = estimate_phi(past_obs.reshape(shape).astype(np.float64), past_exp.reshape(shape))
    phi = np.where(seasonal, phi, np.minimum(phi, RECENT_MODE_MAX_DISPERSION))
    opinion = ~np.isnan(expected)
    mu = np.where(opinion, expected, 1.0)
    pvalue = np.where(opinion, nb_sf(observed, mu, phi), 1.0)
    authors, _ = window_sum(frame.csum_authors, pos, width)
    return ScaleResult(
        label,
        width,
        observed.astype(np.float64),
        expected,
        phi,
        pvalue,
        authors,
        seasonal,
        frame.bucket_minutes,
        everything,
    )
