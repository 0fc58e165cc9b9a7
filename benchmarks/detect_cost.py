"""Cost of one live detection tick for many brands, against a rolling z-score on the same input.

    python -m benchmarks.detect_cost [--brands 1000] [--days 28]

Each brand gets a synthetic 5-minute history (daily cycle, negative-binomial noise, negative counts,
authors) of `--days` days; the clock covers the detector call alone (the history is built beforehand, one
brand at a time, so memory stays flat). `detect_tick_arrays` on the history's arrays is what the live tick
calls; `detect_tick` on the BucketPoint list adds turning the points into arrays. Second rows time the same
tick for a brand whose volume event is open (the baseline is then also computed without the event's
buckets). The reference is a rolling z-score on the last 24 h computed from the same BucketPoint list;
the last column is each row's time over the reference's. Prints the load average (2-core machine shared
with others: compare rows of one run, not runs).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from detectors import (
    BucketArrays,
    BucketPoint,
    DetectorConfig,
    DetectorState,
    detect_tick,
    detect_tick_arrays,
)
from detectors.state import EventState


def histories(brands: int, days: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = days * 288
    end = datetime(2024, 6, 1, tzinfo=UTC)
    starts = [end - timedelta(minutes=5 * (n - 1 - i)) for i in range(n)]
    phase = np.arange(n) * 2 * np.pi / 288
    for _ in range(brands):
        level = rng.lognormal(2.0, 1.2)
        mu = level * (1 + 0.6 * np.sin(phase - 1.0))
        lam = rng.gamma(20.0, mu / 20.0)
        total = rng.poisson(lam)
        negative = rng.binomial(total, 0.15)
        authors = np.round(total * 0.9).astype(int)
        yield [
            BucketPoint(s, int(t), int(g), int(a))
            for s, t, g, a in zip(starts, total, negative, authors, strict=True)
        ]


def open_event(at: datetime) -> DetectorState:
    """A state whose volume event opened two hours ago: the tick then also excludes the event's buckets."""
    opened = at - timedelta(hours=2)
    last = at - timedelta(minutes=5)
    event = EventState(open=True, severity="warning", opened_at=opened, last_active_at=last)
    return DetectorState(first_seen=at - timedelta(days=60), events={"volume": event})


def rolling_z(history: list[BucketPoint]) -> float:
    counts = np.fromiter((p.total for p in history[-289:]), dtype=np.float64)
    past, now = counts[:-1], counts[-1]
    return float((now - past.mean()) / (past.std() + 1e-9))


ROWS: tuple[str, ...] = (
    "detect_tick_arrays (the live tick's call)",
    "detect_tick_arrays, volume event open (baseline without it)",
    "detect_tick (BucketPoint list → arrays, then the same)",
    "detect_tick, volume event open",
    "rolling 24 h z-score",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--days", type=int, default=28)
    args = parser.parse_args(argv)
    config = DetectorConfig(history_days=args.days)
    seconds = dict.fromkeys(ROWS, 0.0)
    signals = 0
    for history in histories(args.brands, args.days):
        arrays = BucketArrays.from_points(history, config.bucket_minutes)
        opened = open_event(history[-1].start)
        calls: list[tuple[str, Callable[..., Any], tuple[Any, ...]]] = [
            (ROWS[0], detect_tick_arrays, (arrays, config, None)),
            (ROWS[1], detect_tick_arrays, (arrays, config, opened)),
            (ROWS[2], detect_tick, (history, config, None)),
            (ROWS[3], detect_tick, (history, config, opened)),
            (ROWS[4], rolling_z, (history,)),
        ]
        for name, function, call_args in calls:
            started = time.perf_counter()
            result = function(*call_args)
            seconds[name] += time.perf_counter() - started
            if name == ROWS[0]:
                signals += len(result.signals)
    command = "python -m benchmarks.detect_cost " + " ".join(sys.argv[1:] if argv is None else argv)
    print(f"`{command.strip()}` (load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())})\n")
    print("| detector | brands | history | total s | ms per brand | × z-score |")
    print("|---|---|---|---|---|---|")
    for name, total in seconds.items():
        print(
            f"| {name} | {args.brands} | {args.days} d × 5 min | {total:.2f} | "
            f"{1000 * total / args.brands:.2f} | {total / seconds[ROWS[4]]:.0f} |"
        )
    print(f"\nsignals raised on these quiet synthetic brands: {signals}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
