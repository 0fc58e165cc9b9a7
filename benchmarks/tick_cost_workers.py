"""benchmarks/tick_cost.py's multi-process part: N tick processes on PostgreSQL, each keeping one
`DetectionTicker` with its history cache across several rounds.

Each process imports, connects, builds its ticker (`history_cache="default"`) and says READY. A
round is: the parent adds one new bucket per brand (not before the first, cold round), then says
"GO k" to every process at once; each ticks `NOW + k × 5 min` (one bucket per brand to evaluate) and
reports its buckets evaluated, the cache's full and tail reads during the tick, the brands it claimed
and the ones it skipped (locked by another process). The round's wall time runs from the first GO to
the last report. Brand row locks (SKIP LOCKED) split the brands between the processes, by timing:
which process ticks which brand can change from round to round, and a brand a process has never
cached is read in full. The warm rounds' hit rate is tail reads ÷ brands the process evaluated.

Run through tick_cost.py (`--workers 1,2,3`); this module is also each tick process's entry point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete  # noqa: E402

from alerting.tick import DetectionTicker  # noqa: E402
from storage.engine import make_engine, make_session_factory  # noqa: E402
from storage.mentions import Bucket  # noqa: E402


@dataclass(frozen=True, slots=True)
class WorkerTick:
    """One process's tick in one round."""

    seconds: float
    cpu: float  # this process's CPU seconds in the tick (not its PostgreSQL backend's)
    buckets: int  # buckets evaluated (one per brand it ticked)
    full: int  # brands it read in full through its cache
    tail: int  # brands that read only their tail
    claimed: int  # brands whose row it locked (including ones another process had just ticked)
    skipped: int  # brands locked by another process when it tried
    cached: int  # brands in its cache after the tick

    @property
    def hits(self) -> float:
        return self.tail / max(self.full + self.tail, 1)


@dataclass(frozen=True, slots=True)
class Round:
    k: int  # 0: cold
    wall: float  # first GO → last report
    ticks: list[WorkerTick]


def tick_process(url: str) -> None:
    """One tick process: READY, then for every "GO k" line one tick at NOW + k buckets, reported as
    one JSON line, with the same ticker (and cache) throughout; stops at EOF."""
    from benchmarks.tick_cost import FIVE, NOW  # this process's own import (see `worker_rounds`)

    ticker = DetectionTicker(make_session_factory(make_engine(url)), history_cache="default")
    cache = ticker.history_cache
    assert cache is not None
    print("READY", flush=True)
    for line in sys.stdin:
        k = int(line.split()[1])
        full, tail = cache.full_reads, cache.tail_reads
        started, cpu = time.perf_counter(), time.process_time()
        summary = ticker.tick(NOW + k * FIVE)
        seconds = time.perf_counter() - started
        report = WorkerTick(
            seconds,
            time.process_time() - cpu,
            summary.buckets_evaluated,
            cache.full_reads - full,
            cache.tail_reads - tail,
            summary.brands,
            summary.skipped,
            len(cache),
        )
        print(json.dumps([report.seconds, report.cpu, *map(int, _fields(report))]), flush=True)


def _fields(report: WorkerTick) -> tuple[int, ...]:
    return report.buckets, report.full, report.tail, report.claimed, report.skipped, report.cached


def worker_rounds(url: str, n: int, count: int, warm: int) -> list[Round]:
    """`count` tick processes, from the state before LAST (the buckets after LAST deleted: each
    round adds its own), tick a cold round and `warm` warm rounds together."""
    # Imported here: tick_cost imports this module inside a function, so no import cycle at load.
    from benchmarks.tick_cost import FIVE, LAST, add_bucket, reset

    reset(url, n)
    engine = make_engine(url)
    with engine.begin() as conn:  # earlier runs added buckets after LAST: start from the seeded table
        conn.execute(delete(Bucket).where(Bucket.start > LAST))
    engine.dispose()
    command = [sys.executable, __file__, url]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    procs = [subprocess.Popen(command, cwd=ROOT, env=env, **pipes) for _ in range(count)]  # type: ignore[call-overload]
    rounds = []
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "READY"
        for k in range(warm + 1):
            sys.stdout.flush()
            if k:
                add_bucket(url, LAST + k * FIVE)  # while every process waits: outside the clock
            started = time.perf_counter()
            for proc in procs:
                proc.stdin.write(f"GO {k}\n")
                proc.stdin.flush()
            lines = [proc.stdout.readline() for proc in procs]
            wall = time.perf_counter() - started
            ticks = [WorkerTick(*json.loads(line)) for line in lines]
            rounds.append(Round(k, wall, ticks))
            load = os.getloadavg()[0]  # other jobs on the machine skew the clock: say how busy it was
            print(f"postgresql: {count} processes, round {k}: {wall:.2f} s, load {load:.1f}", ticks)
    finally:
        for proc in procs:
            proc.stdin.close()
        for proc in procs:
            proc.wait(timeout=60)
    return rounds


def rows(count: int, rounds: list[Round], one: list[float]) -> list[str]:
    """Table rows; `one[k]`: the one in-process cached tick of the same round (same clock, so the
    same brands due for their hourly full read)."""
    out = []
    for r in rounds:
        what = "cold" if r.k == 0 else f"warm {r.k}"
        ratio = f"{r.wall / one[r.k]:.2f}×" if r.k < len(one) else "–"
        out.append(
            f"| {count} | {what} | {r.wall:.2f} | {ratio} | "
            + " | ".join(
                " / ".join(cell(t) for t in r.ticks)
                for cell in (
                    lambda t: f"{t.seconds:.2f} ({t.cpu:.2f})",
                    lambda t: str(t.buckets),
                    lambda t: f"{t.full}+{t.tail}",
                    lambda t: f"{t.hits:.2f}" if t.full + t.tail else "–",  # ticked nothing
                    lambda t: f"{t.claimed - t.buckets}+{t.skipped}",
                    lambda t: str(t.cached),
                )
            )
            + " |"
        )
    return out


HEADER = (
    "| tick processes (PostgreSQL) | round | wall s | ÷ 1-process cached tick | s per process (its CPU s) | "
    "buckets per process | full + tail reads | hit rate (tail ÷ ticked) | claimed done + skipped | "
    "cached brands |\n| ---: | --- | ---: | ---: | --- | --- | --- | --- | --- | --- |"
)


if __name__ == "__main__":
    tick_process(sys.argv[1])
