"""Japanese holidays as off days: false incidents and missed bursts with and without the calendar.

    python -m benchmarks.offdays [--workers 2]

Two synthetic Japanese brands (Asia/Tokyo, 2023-12-01 → 2024-05-31: 年末年始, two Monday holidays,
a Wednesday holiday and Golden Week), each at medium (~20 posts per 5 minutes) and high (~200) volume,
negative-binomial noise. On working days people post around the commute (8 h), lunch and the evening;
on off days — Saturdays, Sundays and Japan's holidays, as people actually live them — the morning
starts late and the afternoon is long. The off-day volume differs by brand:
- consumer (a café chain, a game): off days are busier, ×1.6;
- business (a B2B SaaS, a bank): off days are quiet, ×0.35.
Two series (seeds) per brand and volume. Each series is replayed with the production detector
(`normal`) with `holidays=None` (weekends only, the behaviour before the calendar) and
`holidays="JP"`. Reported, after a 28-day warm-up:
- false incidents on the clean series on weekday holidays and on other days (per brand-week);
- recall of 3× bursts (Hawkes ramp over 15 min, benchmarks.injected.hawkes_burst; 3× the hour before
  the onset) injected at 11:00–15:00 on each weekday holiday, and at the same time on the same
  weekday a week later (earlier if that is an off day) as the control.
Fixed seeds.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from benchmarks.injected import hawkes_burst
from detectors import BucketPoint, DetectorConfig, replay
from detectors.offdays import holiday_days

BUCKET = 5
PER_DAY = 1440 // BUCKET
FIRST = date(2023, 12, 1)
DAYS = 183
START = datetime(2023, 11, 30, 15, 0, tzinfo=UTC)  # 2023-12-01 00:00 in Tokyo
WARMUP_DAYS = 28
OFF_DAY_VOLUME = {"consumer": 1.6, "business": 0.35}
TIERS = {"medium": 20.0, "high": 200.0}
MAGNITUDE, RAMP_MIN = 3.0, 15
CALENDARS: tuple[str | None, ...] = (None, "JP")
SEEDS = 2


def _bump(hour: np.ndarray, at: float, width: float) -> np.ndarray:
    return np.exp(-(((hour - at) / width) ** 2))


def day_kinds() -> tuple[np.ndarray, np.ndarray]:
    """Per day of the period: off day (weekend or holiday), and weekday holiday."""
    epoch = date(1970, 1, 1).toordinal()
    holidays = set().union(*(holiday_days("JP", y) for y in (2023, 2024)))
    days = [FIRST + timedelta(days=k) for k in range(DAYS)]
    weekend = np.array([d.weekday() >= 5 for d in days])
    holiday = np.array([d.toordinal() - epoch in holidays for d in days])
    return weekend | holiday, holiday & ~weekend


def expected_counts(mean: float, off_volume: float) -> np.ndarray:
    hour = (np.arange(PER_DAY) * BUCKET / 60.0) % 24
    work = 0.2 + 0.5 * _bump(hour, 8.0, 1.2) + 0.6 * _bump(hour, 12.5, 1.5) + 1.0 * _bump(hour, 21.5, 2.0)
    off = 0.15 + 0.9 * _bump(hour, 15.0, 3.5) + 0.8 * _bump(hour, 21.0, 2.2)
    work, off = work / work.mean(), off / off.mean() * off_volume
    off_day, _ = day_kinds()
    return mean * np.concatenate([off if o else work for o in off_day])


@dataclass(frozen=True)
class Job:
    brand: str
    tier: str
    calendar: str | None
    bursts: bool
    seed: int


def burst_onsets() -> tuple[list[int], list[int]]:
    """Bucket indexes of the holiday bursts (11:00–15:00 local) and of their controls: the same time
    on the same weekday a week later (a week earlier when that is an off day or past the period)."""
    off_day, weekday_holiday = day_kinds()
    rng = np.random.default_rng(7)
    days = [int(d) for d in np.flatnonzero(weekday_holiday) if d >= WARMUP_DAYS + 7]
    at = [d * PER_DAY + int(rng.integers(11 * 12, 15 * 12)) for d in days]
    later = [d + 7 < DAYS - 1 and not off_day[d + 7] for d in days]
    return at, [a + (7 if ok else -7) * PER_DAY for a, ok in zip(at, later, strict=True)]


def run(job: Job) -> dict:
    rng = np.random.default_rng(job.seed)
    mu = expected_counts(TIERS[job.tier], OFF_DAY_VOLUME[job.brand])
    counts = rng.poisson(rng.gamma(1 / 0.05, mu * 0.05)).astype(np.int64)
    holiday_at, control_at = burst_onsets()
    onsets = holiday_at + control_at if job.bursts else []
    burst_rng = np.random.default_rng(job.seed + 1)
    for at in onsets:
        level = max(float(counts[at - 12 : at].mean()), 0.2)
        span = RAMP_MIN // BUCKET * 3 + 144
        counts[at : at + span] += hawkes_burst(burst_rng, level, MAGNITUDE, RAMP_MIN // BUCKET, span).astype(
            np.int64
        )
    authors = counts - rng.binomial(counts, 0.1)
    points = [
        BucketPoint(START + timedelta(minutes=BUCKET * i), int(c), 0, int(a))
        for i, (c, a) in enumerate(zip(counts, authors, strict=True))
    ]
    config = DetectorConfig(timezone="Asia/Tokyo", sensitivity="normal", holidays=job.calendar)
    rows = [(int((s.at - START) / timedelta(minutes=BUCKET)), s) for s in replay(points, config)]
    opened = [r for r, s in rows if not s.escalation and r >= WARMUP_DAYS * PER_DAY]
    if not job.bursts:
        _, weekday_holiday = day_kinds()
        on_holiday = sum(bool(weekday_holiday[r // PER_DAY]) for r in opened)
        return {"job": job, "holiday": on_holiday, "other": len(opened) - on_holiday}

    def caught(at: int) -> bool:
        return any(at <= r <= at + 6 * 12 for r, _ in rows)

    return {"job": job, "holiday": sum(map(caught, holiday_at)), "other": sum(map(caught, control_at))}


def report(results: list[dict], command: str, seconds: float) -> str:
    _, weekday_holiday = day_kinds()
    weeks = (DAYS - WARMUP_DAYS) / 7
    n_bursts = len(burst_onsets()[0])
    lines = [
        f"`{command}` ({seconds:.0f} s): {int(weekday_holiday.sum())} weekday holidays in {DAYS} days; "
        f"{n_bursts} holiday bursts and {n_bursts} weekday controls per series, {SEEDS} series per row",
        "",
        "| brand (off-day volume) | volume | calendar | false incidents on weekday holidays | other false "
        "incidents | per brand-week | 3× bursts caught ≤ 6 h: on holidays | on weekdays (control) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    by: dict[tuple, dict[str, int]] = {}
    for r in results:
        job = r["job"]
        cell = by.setdefault((job.brand, job.tier, job.calendar, job.bursts), {"holiday": 0, "other": 0})
        cell["holiday"] += r["holiday"]
        cell["other"] += r["other"]
    n_bursts *= SEEDS
    for brand, factor in OFF_DAY_VOLUME.items():
        for tier in TIERS:
            for calendar in CALENDARS:
                clean, burst = by[(brand, tier, calendar, False)], by[(brand, tier, calendar, True)]
                per_week = (clean["holiday"] + clean["other"]) / (weeks * SEEDS)
                lines.append(
                    f"| {brand} (×{factor}) | {tier} | {calendar or 'none (weekends only)'} | "
                    f"{clean['holiday']} | {clean['other']} | {per_week:.2f} | "
                    f"{burst['holiday']}/{n_bursts} | {burst['other']}/{n_bursts} |"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    jobs = [
        Job(brand, tier, calendar, bursts, seed=11 + 10 * k + 2 * copy + (brand == "business"))
        for k, tier in enumerate(TIERS)
        for brand in OFF_DAY_VOLUME
        for calendar in CALENDARS
        for bursts in (False, True)
        for copy in range(SEEDS)
    ]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(run, jobs))
    command = "python -m benchmarks.offdays " + " ".join(sys.argv[1:] if argv is None else argv)
    print(report(results, command.strip(), time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
