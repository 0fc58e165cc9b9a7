"""A weekly pattern in volume: a brand mentioned in a weekly TV programme, every Tuesday 21:00–22:00.

    python -m benchmarks.weekly [--seeds 3]

Synthetic brands (the injected benchmark's daily and weekly cycle, Asia/Tokyo, negative-binomial noise;
no data needed) at low / medium / high volume; during the programme their volume is M× (2×, 3×) every
week for six weeks. Reported per tier and M: volume incidents opened during the programme in its first
three weeks (the detector cannot know the pattern yet) and in weeks 4–6 (it has three weeks of it);
as a control, the same M× hour on the Wednesday of weeks 4–6 (no pattern there) caught within an hour;
and the programme at 4·M× in week 5 (a real surge during the programme) caught within an hour.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta

import numpy as np

from benchmarks.injected import BUCKET, PER_DAY, START, TIERS, daily_weekly, synthetic
from detectors import BucketPoint, DetectorConfig, replay

HOUR = 60 // BUCKET
SHOW = 21 * HOUR  # bucket of the day where the programme starts (START is brand-local midnight, Monday)
TUESDAY, WEDNESDAY = 1, 2
WEEKS = 6
MAGNITUDES = (2.0, 3.0)


def series(tier: str, seed: int, magnitude: float, extra: dict[int, float]) -> list[BucketPoint]:
    """The base series with the programme (× magnitude every Tuesday) and `extra` (day → ×) added."""
    total = synthetic(tier, TIERS[tier], seed).total.astype(np.int64)  # six weeks
    mean = TIERS[tier] * daily_weekly(total.shape[0])
    rng = np.random.default_rng(seed * 31 + int(magnitude * 10))
    factors = {7 * w + TUESDAY: magnitude for w in range(WEEKS)} | extra
    for day, factor in factors.items():
        hour = slice(day * PER_DAY + SHOW, day * PER_DAY + SHOW + HOUR)
        total[hour] += rng.poisson((factor - 1.0) * mean[hour])
    negative = rng.binomial(total, 0.12)
    starts = [START + timedelta(minutes=BUCKET * i) for i in range(total.shape[0])]
    return [BucketPoint(s, int(t), int(g), int(t)) for s, t, g in zip(starts, total, negative, strict=True)]


def incidents_at(points: list[BucketPoint], days: list[int]) -> dict[int, bool]:
    """Per day: whether a volume incident opened (or escalated) within an hour of the programme's start."""
    signals = replay(points, DetectorConfig(timezone="Asia/Tokyo"))
    out = {}
    for day in days:
        start = points[day * PER_DAY + SHOW].start
        out[day] = any(s.kind == "volume" and start <= s.at <= start + timedelta(hours=1) for s in signals)
    return out


def run(seeds: int) -> list[dict]:
    rows = []
    for tier in TIERS:
        for magnitude in MAGNITUDES:
            row = {"tier": tier, "magnitude": magnitude, "early": 0, "late": 0, "control": 0, "surge": 0}
            for seed in range(1, seeds + 1):
                # two series per seed: a Wednesday burst is one of the days the Tuesday after it looks back on
                surge = {7 * 4 + TUESDAY: 4 * magnitude}
                tuesdays = [7 * w + TUESDAY for w in range(WEEKS)]
                hits = incidents_at(series(tier, seed, magnitude, surge), tuesdays)
                row["early"] += sum(hits[d] for d in tuesdays[:3])
                row["late"] += sum(hits[d] for d in tuesdays[3:] if d not in surge)
                row["surge"] += sum(hits[d] for d in surge)
                wednesdays = {7 * w + WEDNESDAY: magnitude for w in (3, 4, 5)}
                hits = incidents_at(series(tier, seed, magnitude, wednesdays), list(wednesdays))
                row["control"] += sum(hits.values())
            row["seeds"] = seeds
            rows.append(row)
    return rows


def table(rows: list[dict], command: str, seconds: float) -> str:
    lines = [
        f"`{command}` ({seconds:.0f} s)",
        "",
        "| volume | programme | incidents at the programme, weeks 1–3 | weeks 4 and 6 "
        "| the same hour on a Wednesday, weeks 4–6: caught | 4× the programme in week 5: caught |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        n = r["seeds"]
        lines.append(
            f"| {r['tier']} ({TIERS[r['tier']]:.0f} posts / 5 min) | {r['magnitude']:.0f}× "
            f"| {r['early']} of {3 * n} | {r['late']} of {2 * n} | {r['control']} of {3 * n} "
            f"| {r['surge']} of {n} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = run(args.seeds)
    command = "python -m benchmarks.weekly " + " ".join(sys.argv[1:] if argv is None else argv)
    print(table(rows, command.strip(), time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
