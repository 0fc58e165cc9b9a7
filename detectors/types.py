"""The detector contract: what goes in (bucket points, configuration), what comes out (signals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from detectors.calibration import PRESETS
from detectors.offdays import check_calendar, check_timezone
from detectors.state import DetectorState

KINDS: tuple[str, ...] = ("volume", "negativity")
SEVERITIES: tuple[str, ...] = ("attention", "warning", "flame")  # 注意 / 警戒 / 炎上


def severity_rank(severity: str | None) -> int:
    """0 for no severity, 1 attention, 2 warning, 3 flame."""
    return 0 if severity is None else SEVERITIES.index(severity) + 1


class ConfigError(ValueError):
    """A detector setting that cannot be used; `field` names the setting."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class BucketPoint:
    """Counts of one brand's mentions in one bucket."""

    start: datetime  # tz-aware UTC bucket start
    total: int
    negative: int = 0
    # unique authors in the bucket (0 = unknown). Windows add these up, so someone posting in three
    # buckets of a window counts three times: the author floors see an upper bound of the window's
    # unique authors (exact only when nobody posts in two of its buckets). Exact counts would need the
    # author sets per window, which buckets do not carry. A few accounts posting non-stop still fail
    # the 30 % authors-per-post share, since each bucket counts such an account once.
    authors: int = 0
    reach: int = 0


@dataclass(frozen=True)
class DetectorConfig:
    """Per-brand detector settings.

    sensitivity, in plain words (numbers in `detectors.calibration.PRESETS`):
    - "low": only unmistakable surges — about a one-in-a-billion event under the brand's usual pattern
      (calibrated score z ≥ 6), at least 2× the expected volume and 30 posts in the window, sustained for
      two buckets; or a negative share 20 points above the brand's own baseline. Fewest alerts.
    - "normal" (default): about a one-in-three-million event (z ≥ 5), at least 1.5× the expected
      volume and 15 posts; or a negative share 12 points above baseline.
    - "high": about a one-in-thirty-thousand event (z ≥ 4), at least 1.3× the expected volume and 8
      posts; or a negative share 8 points above baseline. Earliest warning, more false alarms.
    The negativity test has score thresholds of its own (`detectors.negativity.SHARE_RULES`: its null is
    the brand's own share and over-dispersion) and needs at least 8 / 5 / 3 negatives above the expected
    count, so a handful of posts never alarms. A sudden change of tone is also caught against the
    hours just before it (`detectors.share_step`), when the share is also that many points above the
    brand's usual one and somewhat unusual for its week.
    In every case known unique authors must be at least 15 / 8 / 5 and 30 % of the posts (summed per
    bucket over the window, see BucketPoint.authors), and an event
    stays one event until 12 h (6 h on "high") pass without anomalous buckets; if it fires again after
    3 / 2 / 1 h without anomalous buckets, that second wave is signalled once more (`Signal.reflare`).
    """

    bucket_minutes: int = 5
    timezone: str = "Asia/Tokyo"  # brand timezone, for daily/weekly seasonality
    sensitivity: str = "normal"  # "low" | "normal" | "high"
    history_days: int = 28  # how much history the caller should pass (caller may pass less)
    # Holiday calendar (a python-holidays country code, e.g. "JP"): its holidays are off days like
    # Saturday and Sunday for the daily profile (detectors.offdays). None = weekends only.
    holidays: str | None = None

    def __post_init__(self) -> None:
        """Refuse a setting the detector cannot use now, not deep inside the first replay."""
        if self.sensitivity not in PRESETS:
            levels = ", ".join(PRESETS)
            raise ConfigError("sensitivity", f"unknown sensitivity {self.sensitivity!r}; use one of {levels}")
        if self.bucket_minutes < 1 or 1440 % self.bucket_minutes:
            raise ConfigError(
                "bucket_minutes",
                f"bucket_minutes {self.bucket_minutes} does not divide a day (e.g. 1, 5, 10, 15, 30, 60)",
            )
        try:
            check_timezone(self.timezone)
        except ValueError as exc:
            raise ConfigError("timezone", str(exc)) from None
        try:
            object.__setattr__(self, "holidays", check_calendar(self.holidays))
        except ValueError as exc:
            raise ConfigError("holidays", str(exc)) from None


@dataclass(frozen=True)
class Signal:
    """An alert decided at one bucket: a new event, an escalation of the current one, or its new wave."""

    at: datetime  # start of the bucket at which the decision is made
    kind: str  # "volume" | "negativity"
    severity: str  # "attention" | "warning" | "flame"   (注意 / 警戒 / 炎上)
    score: float  # calibrated (z-like), comparable across kinds; higher = more unusual
    observed: float  # volume: mentions in the test window; negativity: negative mentions in it
    expected: float
    upper: float  # upper band at the sensitivity's threshold
    test: str  # which test fired, e.g. "nb_tail_1h"
    negative_share: float | None = None
    # the brand's usual share: negativity, at this hour on this kind of day (detectors.share_profile);
    # volume, its week
    baseline_share: float | None = None
    escalation: bool = False  # False = a new event; True = same event grew to a higher severity
    # True = the same event flared again after its activity had stopped (see detectors.policy); also
    # escalation=True, at the severity already reached
    reflare: bool = False


@dataclass(frozen=True)
class TickResult:
    signals: list[Signal]  # alerts decided at this bucket (new events or escalations)
    state: DetectorState
    expected: float | None  # expected total for the latest bucket, None if not enough history
    upper: float | None  # upper band for the latest bucket
    baseline_share: float | None  # the usual negative share now (this hour, this kind of day)
    active: dict[str, bool] = field(default_factory=dict)  # per kind: anomalous right now
