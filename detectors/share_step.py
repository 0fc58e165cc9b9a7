"""The step test: a window's negative share against the hours just before it (a sudden change of tone).

The long-run share test (`detectors.negativity`) judges a window against the brand's week, and a day's
tone differs from its week by several points: a +25-point shift on a day that started 5 points calmer
than usual is only +20 against the week, under the bar at the volumes where the sampling noise is
small. What gives such a shift away is that it is sudden: the hours just before it had the day's own
tone. The step test asks exactly that.

How much the share usually moves from the reference (the REFERENCE_HOURS just before the window) to
the window is the brand's own, at this time of day: the same comparison at the same clock time on each
of the last STEP_DAYS days. Each change is standardised by its sampling s.d. (the two-proportion
test's, at the pooled share). Where the earlier days' changes clearly lean one way (their mean's t
beyond TURN_P, two-sided) the brand turns its tone at this hour: a support line's evening backlog
that clears at 22:00, complaints that rise with the morning rush. There the usual change is their
mean, the step test expects it (its expected share is the reference's plus that change) and judges
today's change against it, so a flame-up that begins as the tone turns stands out from the turn
instead of hiding in it. Elsewhere the usual change is none: a brand whose new day often starts in
another tone than the night before has changes of either sign, and they are the spread. The spread
s² is the mean square of the earlier days' changes around the usual change (widened by the
uncertainty of a mean from those days), pooled with PRIOR_DAYS pseudo-days of pure sampling noise
(s² = 1) and never below 1. Each earlier day's change counts at most WINSOR_SD robust s.d. from those
days' median change (1.4826 × their median absolute deviation, never below 1): a flame-up that began
at this clock time some days ago is one day of fourteen, not the brand's habit, and before this cap
its one change of many s.d. raised s to 3–10 and hid the next shift at this hour for two weeks. Where
the other kind of day's changes at this hour are clearly larger than this kind's (an F test at KIND_P),
the usual change comes from the nearest STEP_DAYS days of today's kind within KIND_DAYS instead: a
railway's rush hour turns its working days' tone at 07:00, and a Saturday's 07:30 is judged against
the Saturdays and Sundays, where the tone holds.
Today's standardised change less the usual change, divided by s, is tested against a Student t with
as many degrees of freedom as days behind s, less one where a usual turn was estimated from them (a
week is little to learn a spread from: STEP_DAYS = 14 instead of 7 caught 149 instead of 144 of the
benchmark's 230 +25-point shifts within the hour, and 72 instead of 64 of 180 +15s, with the same
false incidents; the live tick passes 28 days, a younger brand uses the days it has).

The step test never alerts alone (`detectors.negativity.share_conditions`): the window must also be
somewhat unusual for the brand's week (ShareRule.z_support) and clear the share and count floors
against both the week and the step test's expected share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from detectors.series import MAD_TO_SD, Frame, median_of_valid, same_kind_of_day, window_sum

REFERENCE_HOURS = 3
STEP_DAYS = 14
MIN_STEP_DAYS = 3
PRIOR_DAYS = 4.0
MIN_REFERENCE_POSTS = 30
WINSOR_SD = 3.0
KIND_DAYS = 27  # how far back days of today's kind are looked for (the live tick holds 28 days)
KIND_P = 0.01
TURN_P = 0.01


@dataclass(frozen=True)
class StepTest:
    """Per position, for one window width: the share it expects and the step test's outcome."""

    share: np.ndarray  # the expected share: the reference's plus the usual change (NaN = no opinion)
    reference_total: np.ndarray  # posts in the reference
    pvalue: np.ndarray  # upper tail (1 where no opinion)
    spread: np.ndarray  # s.d. of the standardised change around the usual one at this time of day (≥ 1)
    days: np.ndarray  # the t test's degrees of freedom (earlier days + PRIOR_DAYS, less one for a turn)

    def take(self, part: np.ndarray) -> StepTest:
        return StepTest(*(getattr(self, f)[part] for f in self.__dataclass_fields__))


def _change(
    frame: Frame, pos: np.ndarray, width: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The window's share minus its reference's, standardised; the reference's share and size; where
    the change is defined; its sampling s.d. `pos` and `width` are flat arrays of the same length."""
    length = max(1, REFERENCE_HOURS * 60 // frame.bucket_minutes)
    n_w, ok_w = window_sum(frame.csum_total, pos, width)
    k_w, _ = window_sum(frame.csum_negative, pos, width)
    n_r, ok_r = window_sum(frame.csum_total, pos - width, length)
    k_r, _ = window_sum(frame.csum_negative, pos - width, length)
    n_w, k_w, n_r, k_r = (a.astype(np.float64) for a in (n_w, k_w, n_r, k_r))
    p_r = (k_r + 0.5) / (n_r + 1.0)
    defined = ok_w & ok_r & (n_w > 0) & (n_r >= MIN_REFERENCE_POSTS)
    safe_w = np.where(defined, n_w, 1.0)
    # the two-proportion test's pooled share: a reference that happened to hold one negative post
    # in forty must not make the window's ordinary share look impossible
    pooled = (k_w + k_r + 0.5) / (n_w + n_r + 1.0)
    sd = np.sqrt(pooled * (1.0 - pooled) * (1.0 / safe_w + 1.0 / np.maximum(n_r, 1.0)))
    # half a post of continuity correction: a few posts' share is not taken at face value
    z = (np.maximum(k_w - 0.5, 0.0) / safe_w - p_r) / sd
    return np.where(defined, z, 0.0), p_r, n_r, defined, sd


def step_tests(frame: Frame, pos: np.ndarray, widths: list[int]) -> list[StepTest]:
    """The step test for the window of each width ending at each position (one vectorised pass over
    every width, today and the KIND_DAYS earlier days: a live tick's arrays are tiny, and each numpy
    call costs more than its arithmetic)."""
    shape = (len(widths), KIND_DAYS + 1, pos.shape[0])
    back = np.arange(KIND_DAYS + 1)[None, :, None] * frame.per_day
    at = np.broadcast_to(pos[None, None, :] - back, shape).ravel()
    width = np.broadcast_to(np.asarray(widths, dtype=np.int64)[:, None, None], shape).ravel()
    z, p_ref, n_ref, ok, sd = (a.reshape(shape) for a in _change(frame, at, width))
    # the reference and the window, on earlier days: the same kind of day at both ends as today's?
    span = width.reshape(shape)[:, 1:, :] + max(1, REFERENCE_HOURS * 60 // frame.bucket_minutes)
    alike = same_kind_of_day(frame.off_day, pos[None, None, :], at.reshape(shape)[:, 1:, :], span)
    sums, squares, days = _usual_change(z[:, 1:, :], ok[:, 1:, :], alike)
    usual, spread, dof = _centre(sums, squares, days)
    opinion = ok[:, 0, :] & (days >= MIN_STEP_DAYS)
    pvalue = np.where(opinion, special.stdtr(dof, -(z[:, 0, :] - usual) / spread), 1.0)
    share = np.where(opinion, np.clip(p_ref[:, 0, :] + usual * sd[:, 0, :], 0.0, 1.0), np.nan)
    return [StepTest(share[k], n_ref[k, 0], pvalue[k], spread[k], dof[k]) for k in range(len(widths))]


def _centre(
    sums: np.ndarray, squares: np.ndarray, days: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The usual change, its spread and the t test's degrees of freedom, from the earlier days' sum
    and sum of squares: where those days' changes clearly lean one way (their mean's t beyond
    TURN_P, two-sided), the usual change is their mean and the spread is around it, widened by that
    mean's own uncertainty; elsewhere the usual change is none and the spread is their root mean
    square. Both pool PRIOR_DAYS pseudo-days of pure sampling noise (s² = 1) and never go below 1."""
    n = np.maximum(days, 1.0)
    mean = sums / n
    dof = PRIOR_DAYS + np.maximum(days - 1.0, 0.0)
    around = np.maximum((PRIOR_DAYS + squares - days * mean**2) / dof, 1.0)
    turns = (days >= MIN_STEP_DAYS) & (
        np.abs(mean) > special.stdtrit(dof, 1.0 - TURN_P / 2) * np.sqrt(around / n)
    )
    plain = np.maximum((PRIOR_DAYS + squares) / (PRIOR_DAYS + days), 1.0)
    usual = np.where(turns, mean, 0.0)
    spread = np.sqrt(np.where(turns, around * (1.0 + 1.0 / n), plain))
    return usual, spread, np.where(turns, dof, PRIOR_DAYS + days)


def _usual_change(
    change: np.ndarray, ok: np.ndarray, alike: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sum, the sum of squares and the number of the earlier days' changes behind the usual change
    (widths × days × positions in; widths × positions out): the last STEP_DAYS days, or, where the
    other kind of day's changes are clearly larger at this hour (an F test at KIND_P against this
    kind's), the nearest STEP_DAYS days of this kind within KIND_DAYS."""
    recent = (np.arange(1, change.shape[1] + 1) <= STEP_DAYS)[None, :, None]
    pooled = ok & recent
    same = ok & alike
    same &= np.cumsum(same, axis=1) <= STEP_DAYS
    other = pooled & ~alike
    kept = np.where(pooled, _winsorised(change, pooled), 0.0)
    same_kept = np.where(same, _winsorised(change, same), 0.0)
    squares, same_squares = kept**2, (same_kept**2).sum(axis=1)
    n_same, n_other = same.sum(axis=1), other.sum(axis=1)
    other_mean = np.where(other, squares, 0.0).sum(axis=1) / np.maximum(n_other, 1)
    same_mean = np.maximum((PRIOR_DAYS + same_squares) / (PRIOR_DAYS + n_same), 1.0)
    bar = special.fdtri(np.maximum(n_other, 1), PRIOR_DAYS + n_same, 1.0 - KIND_P)
    differ = (n_other > 0) & (n_same >= MIN_STEP_DAYS) & (other_mean > bar * same_mean)
    days = np.where(differ, n_same, pooled.sum(axis=1)).astype(np.float64)
    sums = np.where(differ, same_kept.sum(axis=1), kept.sum(axis=1))
    return sums, np.where(differ, same_squares, squares.sum(axis=1)), days


def _winsorised(change: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """The earlier days' standardised changes (widths × days × positions), each within WINSOR_SD
    robust s.d. of its width's and position's median change (the s.d. never below 1, pure sampling
    noise)."""
    widths, days, n = change.shape

    def by_day(a: np.ndarray) -> np.ndarray:  # (days, widths × positions), as median_of_valid takes
        return a.transpose(1, 0, 2).reshape(days, widths * n)

    centre = np.nan_to_num(median_of_valid(by_day(change), by_day(earlier), 1), nan=0.0)
    typical = median_of_valid(np.abs(by_day(change) - centre[None, :]), by_day(earlier), 1)
    cap = WINSOR_SD * np.maximum(MAD_TO_SD * np.nan_to_num(typical, nan=0.0), 1.0)
    centre, cap = centre.reshape(widths, 1, n), cap.reshape(widths, 1, n)
    return np.clip(change, centre - cap, centre + cap)


def step_upper(pvalue: float, total: float, step: StepTest, i: int) -> float:
    """Negatives in a window of `total` posts at the step test's threshold (the signal's upper band),
    with the sampling s.d. at the expected share (the test's pooled share moves with the count)."""
    t = float(special.stdtrit(float(step.days[i]), 1.0 - pvalue))
    p = float(step.share[i])
    sd = np.sqrt(p * (1.0 - p) * (1.0 / max(total, 1.0) + 1.0 / max(float(step.reference_total[i]), 1.0)))
    return float(total * min(1.0, p + t * float(step.spread[i]) * sd) + 0.5)
