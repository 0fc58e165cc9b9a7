"""The named steps wired together: model → calibration → alert policy, live (`detect_tick`) and replay.

`evaluate` computes, for a set of positions of a frame, everything the policy needs (vectorised). The
live path evaluates the last bucket of the trailing window; replay evaluates every bucket of the whole
series at once. All statistics at a position read only a bounded look-back that fits inside the history
window, so both paths see the same numbers and replay equals running `detect_tick` bucket by bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from detectors import calibration, policy
from detectors.baseline import Baseline, lag_days
from detectors.calibration import Preset
from detectors.negativity import (
    SHARE_RULES,
    ShareBaseline,
    ShareResult,
    ShareRule,
    betabinom_isf,
    evaluate_shares,
    share_baseline,
    share_conditions,
)
from detectors.series import BucketArrays, Frame, buckets, build_frame, frame_from_arrays
from detectors.share_step import step_upper
from detectors.state import DetectorState
from detectors.types import KINDS, BucketPoint, DetectorConfig, Signal, TickResult
from detectors.volume import ScaleResult, dispersion_grid, evaluate_scale, nb_isf, scale_widths


@dataclass(frozen=True)
class KindView:
    """Per evaluated position, one kind's calibrated outcome."""

    fire: np.ndarray  # alert condition holds
    active: np.ndarray  # anomalous right now
    level: np.ndarray  # severity level 1..3
    score: np.ndarray  # calibrated score (best scale)
    scale: np.ndarray  # index of the scale reported
    step: np.ndarray | None = None  # negativity: the reported scale alerted on the step test only


@dataclass(frozen=True)
class Evaluation:
    frame: Frame
    pos: np.ndarray
    volume: list[ScaleResult]
    shares: ShareBaseline
    negativity: list[ShareResult]
    views: dict[str, KindView]
    tests: np.ndarray  # multiplicity behind each scale's p-value
    share_rule: ShareRule  # the negativity thresholds of this sensitivity


def lookback_buckets(frame_bucket_minutes: int) -> int:
    """How far before the evaluated bucket the per-bucket profile must exist (level + dispersion)."""
    day = buckets(1440, frame_bucket_minutes)
    longest = 0
    for _, width in scale_widths(frame_bucket_minutes):
        step, count = dispersion_grid(width, frame_bucket_minutes)
        longest = max(longest, width + step * count + day + width)
    return longest


# An ongoing volume event is kept out of the level, the recent rate and the dispersion's residuals, from a
# little before it opened (its ramp) for at most a day: after that a still-raised volume is the new level.
EXCLUDE_BEFORE = timedelta(minutes=30)
EXCLUDE_MAX = timedelta(hours=24)
REPLAY_CHUNK = 144  # buckets re-evaluated at once while an event is open during replay


def excluded_span(state: DetectorState) -> tuple[datetime, datetime] | None:
    """Buckets of the ongoing volume event that the baseline must not learn from (None: no event)."""
    event = state.event("volume")
    if not event.open or event.opened_at is None:
        return None
    return event.opened_at - EXCLUDE_BEFORE, event.opened_at + EXCLUDE_MAX


def exclusion_mask(frame: Frame, span: tuple[datetime, datetime]) -> np.ndarray:
    step = timedelta(minutes=frame.bucket_minutes)
    first = max(0, -((frame.start - span[0]) // step))  # ceil
    last = min(frame.n - 1, (span[1] - frame.start) // step)
    mask = np.zeros(frame.n, dtype=bool)
    if first <= last:
        mask[first : last + 1] = True
    return mask


def evaluate(
    frame: Frame,
    config: DetectorConfig,
    pos: np.ndarray,
    dense: bool,
    excluded: np.ndarray | None = None,
    plain_all: list[np.ndarray] | None = None,
    share_results: tuple[ShareBaseline, list[ShareResult]] | None = None,
) -> Evaluation:
    """Everything the policy needs at `pos`; `excluded` buckets (an ongoing event) stay out of the baseline.

    `plain_all` (per scale) are the plain model's expected counts at every position, when a dense
    evaluation has them already (replay); otherwise they are computed where needed. `share_results` are
    the negativity model's results at `pos` when already known.
    """
    rule = calibration.preset(config.sensitivity)
    lags = lag_days(config.history_days)
    profile_start = 0 if dense else int(pos.min()) - lookback_buckets(frame.bucket_minutes) - 1
    widths = scale_widths(frame.bucket_minutes)
    plain = Baseline.build(frame, lags, profile_start)
    base = plain if excluded is None else plain.excluding(excluded)
    volume = [
        evaluate_scale(base, pos, label, width, dense, plain, None if plain_all is None else plain_all[k])
        for k, (label, width) in enumerate(widths)
    ]
    if share_results is not None:  # the share test does not depend on the volume exclusion
        shares, negativity = share_results
    else:
        shares = share_baseline(frame, pos, max(1, min(7, config.history_days - 1)))
        negativity = evaluate_shares(frame, shares, pos, widths)
    tests = calibration.multiplicity([width for _, width in widths])
    share_rule = SHARE_RULES[config.sensitivity]
    views = {
        "volume": _volume_view(volume, negativity, shares, rule, tests),
        "negativity": _negativity_view(volume, negativity, shares, rule, share_rule, tests),
    }
    return Evaluation(frame, pos, volume, shares, negativity, views, tests, share_rule)


def _pick(qualify: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Per position the scale to report: best score among qualifying scales, else best score."""
    masked = np.where(qualify, score, -np.inf)
    return np.where(qualify.any(axis=0), masked.argmax(axis=0), score.argmax(axis=0))


def _take(rows: np.ndarray, pick: np.ndarray) -> np.ndarray:
    return rows[pick, np.arange(rows.shape[1])]


def _volume_view(
    volume: list[ScaleResult], negativity: list, shares: ShareBaseline, rule: Preset, tests: np.ndarray
) -> KindView:
    obs = np.vstack([r.observed for r in volume])
    exp = np.vstack([r.expected for r in volume])
    authors = np.vstack([r.authors for r in volume]).astype(np.float64)
    score = calibration.calibrate(np.vstack([r.pvalue for r in volume]), tests)
    with np.errstate(all="ignore"):
        ratio = np.where(np.isnan(exp), np.nan, obs / exp)
    known = ~np.isnan(exp)
    # Without a daily profile (a new brand) the expected count ignores the time of day, which alone
    # moves counts several-fold between night and day: only a larger, faster jump is evidence of a
    # surge, and a slow rise over hours cannot be told from the morning (longer scales stay silent).
    seasonal = np.vstack([r.seasonal for r in volume])
    recent_floor = np.array(
        [
            max(rule.min_ratio, calibration.RECENT_MIN_RATIO)
            if r.width * r.frame_minutes <= calibration.RECENT_MAX_SCALE_MINUTES
            else np.inf
            for r in volume
        ]
    )[:, None]
    min_ratio = np.where(seasonal, rule.min_ratio, recent_floor)
    authors_ok = (authors == 0) | (
        (authors >= rule.min_authors) & (authors >= calibration.SPREAD_MIN_SHARE * obs)
    )
    qualify = known & (score >= rule.z_alert) & (obs >= rule.min_count) & (ratio >= min_ratio) & authors_ok
    active = (
        known & (score >= rule.z_active) & (obs >= rule.min_count / 2) & (ratio >= 1.0 + (min_ratio - 1) / 2)
    )
    pick = _pick(qualify, score)
    share_now = np.vstack([_share(r) for r in negativity])
    delta = _take(share_now, pick) - shares.share
    index = calibration.severity_index(_take(ratio, pick), delta, _take(authors, pick), _take(obs, pick))
    return KindView(
        fire=qualify.any(axis=0),
        active=active.any(axis=0) | qualify.any(axis=0),
        level=calibration.severity_level(index),
        score=_take(score, pick),
        scale=pick,
    )


def _share(result) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.where(result.total > 0, result.negative / result.total, np.nan)


def _negativity_view(
    volume: list[ScaleResult],
    negativity: list,
    shares: ShareBaseline,
    rule: Preset,
    share_rule: ShareRule,
    tests: np.ndarray,
) -> KindView:
    authors = np.vstack([r.authors for r in negativity]).astype(np.float64)
    total = np.vstack([r.total for r in negativity])
    score = calibration.calibrate(np.vstack([r.pvalue for r in negativity]), tests)
    step_score = calibration.calibrate(np.vstack([r.step.pvalue for r in negativity]), tests)
    cond = share_conditions(
        negativity,
        score,
        step_score,
        share_rule,
        rule.min_negative,
        rule.min_share_delta,
        rule.min_authors,
    )
    qualify, active, delta, score = cond.qualify, cond.active, cond.delta, cond.score
    pick = _pick(qualify, score)
    exp = np.vstack([r.expected for r in volume])
    obs = np.vstack([r.observed for r in volume])
    with np.errstate(all="ignore"):
        ratio = np.where(np.isnan(exp), 1.0, obs / exp)
    index = calibration.severity_index(
        _take(ratio, pick), _take(delta, pick), _take(authors, pick), _take(total, pick)
    )
    return KindView(
        fire=qualify.any(axis=0),
        active=active.any(axis=0) | qualify.any(axis=0),
        level=calibration.severity_level(index),
        score=_take(score, pick),
        scale=pick,
        step=_take(cond.step, pick),
    )


def _signal(
    ev: Evaluation, i: int, kind: str, at: datetime, decision: policy.Decision, rule: Preset
) -> Signal:
    view = ev.views[kind]
    k = int(view.scale[i])
    z_alert = rule.z_alert if kind == "volume" else ev.share_rule.z_alert
    p_alert = calibration.alert_pvalue(replace(rule, z_alert=z_alert), float(ev.tests[k]))
    base_share = _opt(ev.shares.share[i])
    if kind == "volume":
        r = ev.volume[k]
        mu = float(r.expected[i])
        upper = float(nb_isf(p_alert, np.array([mu]), np.array([r.phi[i]]))[0])
        neg = ev.negativity[k]
        share = float(neg.negative[i] / neg.total[i]) if neg.total[i] > 0 else None
        observed, expected, test = float(r.observed[i]), mu, f"nb_tail_{r.label}"
    else:
        s = ev.negativity[k]
        step = view.step is not None and bool(view.step[i])
        pi = float(s.step.share[i] if step else s.expected[i])
        observed, expected = float(s.negative[i]), float(s.total[i] * pi)
        if step:
            upper = step_upper(p_alert, float(s.total[i]), s.step, i)
        else:
            upper = betabinom_isf(p_alert, s.total[i], pi, float(s.rho[i]))
        share = float(s.negative[i] / s.total[i])
        test = f"betabinom_{'step' if step else 'share'}_{s.label}"
        base_share = _opt(s.expected[i])  # what is usual at this hour on this kind of day (share_profile)
    return Signal(
        at=at,
        kind=kind,
        severity=decision.severity,
        score=round(float(view.score[i]), 3),
        observed=observed,
        expected=round(expected, 3),
        upper=upper,
        test=test,
        negative_share=None if share is None else round(share, 4),
        baseline_share=None if base_share is None else round(base_share, 4),
        escalation=decision.escalation,
        reflare=decision.reflare,
    )


def _opt(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _advance(
    ev: Evaluation, i: int, at: datetime, state: DetectorState, rule: Preset
) -> tuple[DetectorState, list[Signal]]:
    signals: list[Signal] = []
    for kind in KINDS:
        view = ev.views[kind]
        event, decision = policy.step(
            state.event(kind), at, bool(view.fire[i]), bool(view.active[i]), int(view.level[i]), rule
        )
        state = state.with_event(kind, event)
        if decision is not None:
            signals.append(_signal(ev, i, kind, at, decision, rule))
    return replace(state, last_at=at), signals


def _chart(ev: Evaluation, i: int, rule: Preset) -> tuple[float | None, float | None]:
    """Expected count and upper band for the single bucket at position i (smallest scale's model)."""
    r = ev.volume[0]
    mu = float(r.expected[i])
    if np.isnan(mu):
        return None, None
    per_bucket = mu / r.width
    upper = nb_isf(calibration.alert_pvalue(rule, 1), np.array([per_bucket]), np.array([r.phi[i]]))[0]
    return per_bucket, float(upper)


def detect_tick(
    history: Sequence[BucketPoint], config: DetectorConfig, state: DetectorState | None
) -> TickResult:
    """Evaluate the bucket that just closed (the last of `history`) and advance the alert policy.

    history is ordered and ends with the bucket that just closed; missing buckets mean zero mentions.
    Pass the trailing `config.history_days` (less for a new brand). Uses only history (causal). A tick
    for a bucket already evaluated (same or earlier than the state's last) returns no signals and the
    state unchanged. The same as `detect_tick_arrays` on the points' arrays.
    """
    if not history:
        raise ValueError("detect_tick needs at least one bucket")
    return detect_tick_arrays(BucketArrays.from_points(history, config.bucket_minutes), config, state)


def detect_tick_arrays(
    history: BucketArrays, config: DetectorConfig, state: DetectorState | None
) -> TickResult:
    """`detect_tick` for a history held as arrays (ordered, ending with the bucket that just closed)."""
    if not len(history):
        raise ValueError("detect_tick needs at least one bucket")
    state = state if state is not None else DetectorState()
    rule = calibration.preset(config.sensitivity)
    at, first = history.time(-1), history.time(0)
    first_seen = first if state.first_seen is None else min(state.first_seen, first)
    step = timedelta(minutes=config.bucket_minutes)
    window_start = at - (config.history_days * buckets(1440, config.bucket_minutes) - 1) * step
    frame = frame_from_arrays(
        history, config.bucket_minutes, config.timezone, max(first_seen, window_start), config.holidays
    )
    i_last = frame.n - 1
    span = excluded_span(state)
    excluded = None if span is None else exclusion_mask(frame, span)
    ev = evaluate(frame, config, np.array([i_last], dtype=np.int64), dense=False, excluded=excluded)
    expected, upper = _chart(ev, 0, rule)
    active = {kind: bool(ev.views[kind].active[0]) for kind in KINDS}
    baseline_share = _opt(ev.negativity[0].expected[0])  # the shortest window's usual share
    if state.last_at is not None and at <= state.last_at:
        return TickResult([], state, expected, upper, baseline_share, active)
    state = replace(state, first_seen=first_seen)
    state, signals = _advance(ev, 0, at, state, rule)
    return TickResult(signals, state, expected, upper, baseline_share, active)


def _slice_shares(ev: Evaluation, part: np.ndarray) -> tuple[ShareBaseline, list[ShareResult]]:
    b = ev.shares
    shares = ShareBaseline(b.share[part], b.rho[part], b.week[part], b.kinds.take(part))
    fields = ("negative", "total", "pvalue", "authors", "expected", "rho")
    results = [
        replace(r, step=r.step.take(part), **{f: getattr(r, f)[part] for f in fields}) for r in ev.negativity
    ]
    return shares, results


def replay(points: Sequence[BucketPoint], config: DetectorConfig) -> list[Signal]:
    """All signals of running `detect_tick` at every bucket from the first point to the last.

    Equal to the live path (a fresh state, the trailing history window at each bucket, a zero bucket
    where none was given) but evaluated in one vectorised pass.
    """
    if not points:
        return []
    rule = calibration.preset(config.sensitivity)
    frame = build_frame(points, config.bucket_minutes, config.timezone, points[0].start, config.holidays)
    pos = np.arange(frame.n, dtype=np.int64)
    plain = evaluate(frame, config, pos, dense=True)
    state = DetectorState(first_seen=frame.start)
    signals: list[Signal] = []
    chunk: tuple[tuple[datetime, datetime], int, Evaluation] | None = None
    for i in range(frame.n):
        span = excluded_span(state)
        ev, k = plain, i
        if span is not None:  # an event is open: its buckets leave the baseline, as in detect_tick
            if chunk is None or chunk[0] != span or i >= chunk[1] + chunk[2].pos.shape[0]:
                part = np.arange(i, min(frame.n, i + REPLAY_CHUNK), dtype=np.int64)
                dense_expected = [r.expected_all for r in plain.volume if r.expected_all is not None]
                mask = exclusion_mask(frame, span)
                shares = _slice_shares(plain, part)
                ev_part = evaluate(frame, config, part, False, mask, dense_expected, shares)
                chunk = (span, i, ev_part)
            ev, k = chunk[2], i - chunk[1]
        state, new = _advance(ev, k, frame.at(i), state, rule)
        signals.extend(new)
    return signals
