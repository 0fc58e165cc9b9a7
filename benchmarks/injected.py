"""Injected flame-ups: recall, latency and false incidents of the production detector.

    python -m benchmarks.injected [--data DIR] [--sensitivity normal] [--workers 2] [--first-event-day 8]

Baselines: the NAB realTweets DEV series (real Twitter volumes, `../shared/data/nab_realtweets`; skipped
with a message when missing; negative counts drawn at a 12–15 % share) and synthetic brands with a daily
cycle (quiet night, busy evening, brand-local Asia/Tokyo) and a weekly one (weekends −25 %) at low
(~1–3 posts per 5-minute bucket), medium (~10–30) and high (~100–300) volume, negative-binomial noise.

Events, every 3.5 days from day 8 at a random time of the first or second half of the day (away from
NAB's labelled windows): Tuesday mornings and Friday afternoons; `--first-event-day 12` moves them to
Saturday mornings and Tuesday afternoons and adds rows for the shifts that start on an off day:
- bursts: a discrete self-exciting (Hawkes) process with an exponential kernel (~15 min memory) on top
  of the series; its branching ratio is super-critical until the extra intensity reaches (M − 1) ×
  the pre-onset level (so volume peaks near M×), ramping over R, then near-critical for
  max(R, 1 h) and decaying. M ∈ {3, 5, 10}, R ∈ {15 min, 1 h, 6 h}; half the bursts carry a
  negativity shift (burst posts 60 % negative).
- negativity-only: the negative share rises by NEG_SHIFTS (+15/+25/+40) points for 3 h on unchanged
  volume, on synthetic brands at each of NEG_BASE_SHARES (5/15/35 %; NAB: +25 at its own share);
  reported by volume × shift × baseline share, recall within 1 h and 3 h, with false negativity
  incidents on clean series at each baseline share. Also brands whose tone turns at the same hours
  (TONES, on a 12 % baseline): every day (+18 points from 19:00 to 22:00 brand-local — a support
  line's evening backlog; +20 points from 07:00 to 09:00 — rush-hour complaints), or by day of the week
  (+15 points all Saturday and Sunday — crowds at weekends; +20 points 07:00–09:00 on working days
  only — a railway's rush hour): clean, and with +25-point shifts.
A burst is caught when any incident opens (or escalates) between onset and onset + R + 6 h; latency
is from the onset to the close of the bucket that alerted (one 5-minute bucket at best); "from 2×" is
from the first bucket where the burst alone doubles the pre-onset level (when it becomes visible). The goal
class is bursts with M ≥ 3 reaching it within an hour (R ≤ 1 h). False incidents: incidents opened on
the clean series after day 8 (NAB: outside its labelled windows), per brand-week. Fixed seeds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from benchmarks.injected_oracle import oracle_first_alert, oracle_first_share_alert
from benchmarks.injected_report import report
from detectors import BucketPoint, DetectorConfig, replay

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "nab_realtweets"
BUCKET = 5
PER_DAY = 1440 // BUCKET
START = datetime(2024, 3, 3, 15, 0, tzinfo=UTC)  # Monday 00:00 in Tokyo
SYNTHETIC_DAYS = 42
FIRST_EVENT_DAY = 8.0
EVENT_EVERY_DAYS = 3.5
TIERS = {"low": 2.0, "medium": 20.0, "high": 200.0}  # mean posts per bucket
MAGNITUDES = (3.0, 5.0, 10.0)
RAMPS_MIN = (15, 60, 360)
NEG_SHIFT = 0.25
NEG_SHIFT_MINUTES = 180
KERNEL_DECAY = 0.7  # per bucket: the self-excitation memory is ~15 minutes
DAILY_TONE_BASE_SHARE = 0.12


@dataclass(frozen=True)
class Tone:
    """A brand's usual tone: `points` added to the negative share from brand-local hour `first` to
    `last` on the days of `days` ("every" day, "working" days, "off" days = Saturday and Sunday)."""

    first: int
    last: int
    points: float
    days: str = "every"

    @property
    def group(self) -> str:
        return "daily tone" if self.days == "every" else "weekly tone"


TONES = {
    "evening": Tone(19, 22, 0.18),  # a support line's evening backlog
    "morning": Tone(7, 9, 0.20),  # rush-hour complaints, every day
    "weekend": Tone(0, 24, 0.15, "off"),  # crowds and queues at weekends (a theme park, a restaurant chain)
    "weekday rush": Tone(7, 9, 0.20, "working"),  # a railway's rush hour, on working days only
}


@dataclass(frozen=True)
class Base:
    name: str
    timezone: str
    total: np.ndarray
    share: np.ndarray  # per-bucket baseline negative probability
    blocked: list[tuple[int, int]]  # index ranges where no event may start (labelled anomalies)
    seed: int


def is_weekend(bucket: np.ndarray | int) -> np.ndarray:
    """Whether each bucket index falls on a brand-local Saturday or Sunday (START is a brand-local
    Monday 00:00; NAB's days are UTC's, so this holds for the synthetic brands only)."""
    return np.asarray(bucket) // PER_DAY % 7 >= 5


def daily_weekly(n: int) -> np.ndarray:
    """Mean multiplier per bucket: night trough, lunch and evening peaks (Tokyo), weekends −25 %."""
    minutes = np.arange(n) * BUCKET
    hour = (minutes / 60.0) % 24  # START is local midnight
    day = 0.25 + 0.55 * np.exp(-(((hour - 12.5) / 2.0) ** 2)) + 1.0 * np.exp(-(((hour - 21.5) / 2.5) ** 2))
    day += 0.35 * np.exp(-(((hour - 8.0) / 1.2) ** 2))
    return day / day.mean() * np.where(is_weekend(np.arange(n)), 0.75, 1.0)


def synthetic(tier: str, mean: float, seed: int) -> Base:
    rng = np.random.default_rng(seed)
    n = SYNTHETIC_DAYS * PER_DAY
    mu = mean * daily_weekly(n)
    total = rng.poisson(rng.gamma(1 / 0.05, mu * 0.05))
    return Base(f"synthetic {tier} #{seed}", "Asia/Tokyo", total, _daily_share(rng, n, 0.12), [], seed)


def _daily_share(rng: np.random.Generator, n: int, mean: float) -> np.ndarray:
    days = -(-n // PER_DAY)
    return np.repeat(rng.beta(mean * 60, (1 - mean) * 60, size=days), PER_DAY)[:n]


def nab(data: Path) -> list[Base]:
    windows = json.loads((data / "combined_windows.json").read_text(encoding="utf-8"))
    out = []
    for seed, key in enumerate(sorted(windows)):
        path = data / Path(key).name
        rows = path.read_text(encoding="utf-8").splitlines()[1:]
        stamps = [r.split(",")[0] for r in rows]
        total = np.array([int(float(r.split(",")[1])) for r in rows], dtype=np.int64)
        index = {s: i for i, s in enumerate(stamps)}
        blocked = [
            (index[a.split(".")[0]] - PER_DAY, index[b.split(".")[0]] + PER_DAY) for a, b in windows[key]
        ]
        rng = np.random.default_rng(100 + seed)
        name = path.stem.replace("Twitter_volume_", "NAB ")
        out.append(Base(name, "UTC", total, _daily_share(rng, total.shape[0], 0.15), blocked, 100 + seed))
    return out


def onsets(base: Base, first_day: float = FIRST_EVENT_DAY) -> list[int]:
    rng = np.random.default_rng(base.seed + 7)
    out = []
    day = first_day
    n = base.total.shape[0]
    while (day + 1.5) * PER_DAY < n:
        at = int(day * PER_DAY + rng.integers(0, PER_DAY // 2))
        if not any(a <= at + PER_DAY // 2 and at <= b for a, b in base.blocked):
            out.append(at)
        day += EVENT_EVERY_DAYS
    return out


def hawkes_burst(rng: np.random.Generator, level: float, magnitude: float, ramp: int, n: int) -> np.ndarray:
    """Extra counts from the onset: super-critical until (M − 1)·level, then plateau, then decay."""
    target = max((magnitude - 1.0) * level, 0.5)
    immigrants = target / 20.0
    growth = 20.0 ** (1.0 / max(ramp, 1))
    alpha_ramp = (growth - KERNEL_DECAY) / (1.0 - KERNEL_DECAY)
    hold = max(ramp, 12)
    out = np.zeros(n)
    excitation = 0.0
    phase_end = None
    for t in range(n):
        if phase_end is None:
            lam = immigrants + alpha_ramp * excitation
            if lam >= target or t >= 2 * ramp:
                phase_end = t + hold
        elif t < phase_end:
            lam = 0.05 * target + 0.95 * excitation
        else:
            lam = 0.6 * excitation
        out[t] = rng.poisson(min(lam, 50 * target))
        excitation = KERNEL_DECAY * excitation + (1.0 - KERNEL_DECAY) * out[t]
    return out


@dataclass(frozen=True)
class Job:
    base: Base
    scenario: str  # "clean" | "burst" | "negativity"
    magnitude: float = 0.0
    ramp_min: int = 0
    sensitivity: str = "normal"
    shift: float = NEG_SHIFT  # negativity events: points added to the negative share
    base_share: float = 0.0  # negativity grid: the brand's baseline share (0 = the base's own)
    tone: str = ""  # a key of TONES: the brand's tone turns at those hours (and days)
    first_event_day: float = FIRST_EVENT_DAY  # 12: Saturday mornings and Tuesday afternoons instead


def run_job(job: Job) -> list[dict]:
    """Replay one base series with this job's events injected; one record per event (or per alert)."""
    base = job.base
    rng = np.random.default_rng(base.seed * 1000 + int(job.magnitude * 10) + job.ramp_min)
    total = base.total.astype(np.float64).copy()
    neg_prob = base.share.copy()
    if job.base_share > 0:
        neg_prob = _daily_share(np.random.default_rng(base.seed + 11), total.shape[0], job.base_share)
    if job.tone:
        neg_prob = neg_prob + usual_tone(total.shape[0], TONES[job.tone])
    extra = np.zeros_like(total)
    true_share = neg_prob.copy()  # before any shift: what the negativity oracle knows
    events = [] if job.scenario in CLEAN else onsets(base, job.first_event_day)
    hour = 60 // BUCKET
    levels = []
    for at in events:
        level = max(float(np.mean(total[at - hour : at])), 0.2)
        levels.append(level)
        if job.scenario == "burst":
            span = min(total.shape[0] - at, job.ramp_min // BUCKET * 3 + 12 * hour)
            extra[at : at + span] = hawkes_burst(rng, level, job.magnitude, job.ramp_min // BUCKET, span)
        else:
            neg_prob[at : at + NEG_SHIFT_MINUTES // BUCKET] += job.shift
    negative = rng.binomial(total.astype(np.int64), np.clip(neg_prob, 0, 1))
    shifted = [k % 2 == 1 for k in range(len(events))]
    burst_neg = np.zeros_like(extra)
    for k, at in enumerate(events):
        if job.scenario == "burst" and shifted[k]:
            burst_neg[at:] = 1.0
    extra_i = extra.astype(np.int64)
    negative = negative + rng.binomial(extra_i, np.where(burst_neg > 0, 0.6, neg_prob.clip(0, 1)))
    counts = total.astype(np.int64) + extra_i
    authors = counts - rng.binomial(counts, 0.1)
    starts = [START + timedelta(minutes=BUCKET * i) for i in range(counts.shape[0])]
    points = [
        BucketPoint(s, int(c), int(g), int(a))
        for s, c, g, a in zip(starts, counts, negative, authors, strict=True)
    ]
    signals = replay(points, DetectorConfig(timezone=base.timezone, sensitivity=job.sensitivity))
    alert_rows = [(int((s.at - START) / timedelta(minutes=BUCKET)), s) for s in signals]
    if job.scenario in CLEAN:
        first = int(FIRST_EVENT_DAY * PER_DAY)
        weeks = (counts.shape[0] - first) / (7 * PER_DAY)
        false_rows = [
            (r, s)
            for r, s in alert_rows
            if r >= first and not s.escalation and not any(a <= r <= b for a, b in base.blocked)
        ]
        false = [s for _, s in false_rows]
        negative_false = sum(s.kind == "negativity" for s in false)
        # the brands of one seed share their days' tones and their draws (every tier, share and tone):
        # a day that alarms one of them often alarms several, so the report also counts distinct days
        negative_days = sorted({r // PER_DAY for r, s in false_rows if s.kind == "negativity"})
        # every page counts against the brand-week, not only new incidents: escalations and new waves
        pages = [s for r, s in alert_rows if r >= first and not any(a <= r <= b for a, b in base.blocked)]
        return [
            {
                "base": base.name,
                "scenario": job.scenario,
                "false": len(false),
                "false_negativity": negative_false,
                "false_negativity_days": negative_days,
                "seed": base.seed,
                "pages": len(pages),
                "reflares": sum(s.reflare for s in pages),
                "weeks": weeks,
                "base_share": job.base_share or float(base.share.mean()),
                "tone": job.tone,
                "tone_group": TONES[job.tone].group if job.tone else "",
            }
        ]
    records = []
    for k, at in enumerate(events):
        # negativity: the whole 3-h shift is searched; the report counts ≤ 1 h and ≤ 3 h separately
        horizon = at + (
            job.ramp_min // BUCKET + 6 * hour if job.scenario == "burst" else NEG_SHIFT_MINUTES // BUCKET
        )
        kinds = ("volume", "negativity") if job.scenario == "burst" else ("negativity",)
        hits = [r for r, s in alert_rows if at <= r <= horizon and s.kind in kinds]
        latency = (min(hits) - at + 1) * BUCKET if hits else None
        # when the burst becomes visible: the first bucket at twice the pre-onset level
        visible = next((t for t in range(at, horizon + 1) if extra[t] >= levels[k]), at)
        from_visible = (min(hits) - visible + 1) * BUCKET if hits else None
        if job.scenario == "burst":
            first = oracle_first_alert(counts, total, at, horizon, BUCKET, job.sensitivity)
        else:
            first = oracle_first_share_alert(
                negative, counts, true_share, at, horizon, BUCKET, job.sensitivity
            )
        oracle = None if first is None else (first - at + 1) * BUCKET
        records.append(
            {
                "base": base.name,
                "scenario": job.scenario,
                "magnitude": job.magnitude,
                "ramp": job.ramp_min,
                "negative_shift": job.scenario == "negativity" or shifted[k],
                "latency": latency,
                "from_visible": from_visible,
                "oracle": oracle,
                "shift": job.shift,
                "base_share": job.base_share or float(base.share.mean()),
                "tone": job.tone,
                "tone_group": TONES[job.tone].group if job.tone else "",
                "rate": levels[k] * hour,  # posts per hour before the onset
                "off_day_onset": not base.name.startswith("NAB") and bool(is_weekend(at)),
            }
        )
    return records


SCENARIOS = ("clean", "negativity", "burst")
CLEAN = ("clean", "negativity_clean")  # negativity_clean: a synthetic brand at one of NEG_BASE_SHARES
NEG_SHIFTS = (0.15, 0.25, 0.40)
NEG_BASE_SHARES = (0.05, 0.15, 0.35)  # 35 %: "a brand that is always criticised"


def usual_tone(n: int, tone: Tone) -> np.ndarray:
    """Points added to the negative share per bucket by the brand's usual tone (START is brand-local
    midnight on a Monday)."""
    minutes = np.arange(n) * BUCKET
    hour = (minutes / 60.0) % 24
    off = is_weekend(np.arange(n))
    day = {"every": np.ones(n, dtype=bool), "working": ~off, "off": off}[tone.days]
    return np.where(day & (hour >= tone.first) & (hour < tone.last), tone.points, 0.0)


def negativity_jobs(bases: list[Base], sensitivity: str) -> list[Job]:
    """NAB: +25 points at its own share; synthetic: every shift × baseline share, and clean per share;
    and the brands with a usual tone (TONES), clean and with +25-point shifts."""
    out = [Job(b, "negativity", sensitivity=sensitivity) for b in bases if b.name.startswith("NAB")]
    synthetic = [b for b in bases if not b.name.startswith("NAB")]
    for b in synthetic:
        for share in NEG_BASE_SHARES:
            out.append(Job(b, "negativity_clean", sensitivity=sensitivity, base_share=share))
            out += [
                Job(b, "negativity", sensitivity=sensitivity, shift=d, base_share=share) for d in NEG_SHIFTS
            ]
        for tone in TONES:
            daily = {"sensitivity": sensitivity, "base_share": DAILY_TONE_BASE_SHARE, "tone": tone}
            out += [Job(b, "negativity_clean", **daily), Job(b, "negativity", shift=NEG_SHIFT, **daily)]
    return out


def jobs(bases: list[Base], sensitivity: str, scenarios: tuple[str, ...] = SCENARIOS) -> list[Job]:
    out = [Job(b, "clean", sensitivity=sensitivity) for b in bases] if "clean" in scenarios else []
    if "negativity" in scenarios:
        out += negativity_jobs(bases, sensitivity)
    if "burst" in scenarios:
        out += [Job(b, "burst", m, r, sensitivity) for b in bases for m in MAGNITUDES for r in RAMPS_MIN]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sensitivity", default="normal", choices=["low", "normal", "high"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument(
        "--first-event-day",
        type=float,
        default=FIRST_EVENT_DAY,
        help="day of the first event (8: Tuesday mornings and Friday afternoons, the tables of record; "
        "12: Saturday mornings and Tuesday afternoons, which adds off-day onset rows)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    bases = [synthetic(t, mean, seed) for t, mean in TIERS.items() for seed in (1, 2)]
    if (args.data / "combined_windows.json").exists():
        bases = nab(args.data) + bases
    else:
        print(f"NAB data not found at {args.data}: running on the synthetic series only.\n")
    scheduled = [
        replace(job, first_event_day=args.first_event_day)
        for job in jobs(bases, args.sensitivity, tuple(args.scenarios))
    ]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        records = [r for batch in pool.map(run_job, scheduled) for r in batch]
    command = "python -m benchmarks.injected " + " ".join(sys.argv[1:] if argv is None else argv)
    print(report(records, command.strip(), time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
