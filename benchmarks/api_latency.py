"""API latency under a steady open-loop load: incident list and metrics vs a trivial endpoint.

The real server (`noroshi serve`, one uvicorn process) reads a database of --brands × --days of
5-minute buckets (1,000 × 90 = 25.9 M rows by default) and --incidents incidents. A load generator in
a second process sends --rate requests/s on a fixed timetable over keep-alive loopback connections
(open loop: a request is due at its slot whether or not earlier ones have answered, and its latency is
measured from that slot, so a stalled server shows up as latency instead of as fewer requests).
Per endpoint: --warmup s discarded, then --duration s measured. Baseline in the same run: /healthz.

    .venv/bin/python benchmarks/api_latency.py [--stores sqlite,postgresql] [--rate 200] [--duration 30]
        [--brands 1000] [--days 90] [--incidents 5000] [--layout time|brand] [--pg URL]
        [--targets healthz,incidents,…] [--gc-freeze]

PostgreSQL is measured when --pg or NOROSHI_TEST_DATABASE_URL is given. The databases are cached
(benchmarks/.cache for SQLite, a database named after the size on the PostgreSQL server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.api_latency_data import data_end, pg_database, read_key, sqlite_database  # noqa: E402
from storage.engine import make_engine  # noqa: E402

TARGETS = ("healthz", "incidents", "metrics_24h_5m", "metrics_30d_1h")
TIMEOUT = 10.0
SERIAL_REQUESTS = 250  # the first fifth warms up


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def path_maker(target: str, brands: int, end: datetime, seed: int) -> Callable[[], str]:
    """Each call: the next request path for `target` (a random brand per metrics request)."""
    rng = random.Random(seed)
    day, month = _iso(end - timedelta(days=1)), _iso(end - timedelta(days=30))
    makers: dict[str, Callable[[], str]] = {
        "healthz": lambda: "/healthz",
        "incidents": lambda: "/api/v1/incidents?limit=50&status=triggered",
        "metrics_24h_5m": lambda: (
            f"/api/v1/brands/{rng.randint(1, brands)}/metrics?since={day}&until={_iso(end)}&resolution=5m"
        ),
        "metrics_30d_1h": lambda: (
            f"/api/v1/brands/{rng.randint(1, brands)}/metrics?since={month}&until={_iso(end)}&resolution=1h"
        ),
    }
    return makers[target]


# ---- load generator (runs in its own process: `api_latency.py load …`) --------------------------------


class _Client:
    """Minimal HTTP/1.1 keep-alive client: idle connections are reused, new ones opened on demand."""

    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def _exchange(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], path: str) -> int:
        reader, writer = conn
        head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.key}\r\n\r\n"
        writer.write(head.encode())
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int({k.lower(): v for k, v in headers.items()}.get("content-length", "0"))
        await reader.readexactly(length)
        return int(lines[0].split()[1])

    async def get(self, path: str) -> int:
        for attempt in range(2):  # an idle connection the server closed (keep-alive timeout): retry once,
            # on a new connection (the next idle one may have been closed by the same timeout)
            reuse = self.idle and not attempt
            conn = self.idle.pop() if reuse else await asyncio.open_connection("127.0.0.1", self.port)
            try:
                status = await self._exchange(conn, path)
            except (ConnectionError, asyncio.IncompleteReadError):
                conn[1].close()
                if attempt:
                    raise
                continue
            self.idle.append(conn)
            return status
        raise AssertionError("unreachable")


async def _load(
    port: int, key: str, paths: Callable[[], str], rate: float, seconds: float
) -> list[list[float]]:
    client = _Client(port, key)
    loop = asyncio.get_running_loop()

    async def one(due: float, path: str) -> list[float]:
        try:
            status = await asyncio.wait_for(client.get(path), TIMEOUT)
        except TimeoutError:
            status = 0  # no answer within TIMEOUT
        except (OSError, asyncio.IncompleteReadError):
            status = -1  # connection refused or reset
        return [due, loop.time() - due, float(status)]

    t0 = loop.time() + 0.05
    tasks = []
    for i in range(int(rate * seconds)):
        due = t0 + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, paths())))
    results = await asyncio.gather(*tasks)
    return [[r[0] - t0, r[1], r[2]] for r in results]


async def _serial(port: int, key: str, paths: Callable[[], str], count: int) -> list[float]:
    """Closed loop, one request at a time: the server's own time per request (its capacity is 1/that)."""
    client = _Client(port, key)
    loop = asyncio.get_running_loop()
    times = []
    for _ in range(count):
        started = loop.time()
        await client.get(paths())
        times.append(loop.time() - started)
    return times


def load_main(args: argparse.Namespace) -> None:
    end = datetime.fromisoformat(args.end)
    paths = path_maker(args.target, args.brands, end, seed=7)
    serial = asyncio.run(_serial(args.port, args.key, paths, SERIAL_REQUESTS))
    results = asyncio.run(_load(args.port, args.key, paths, args.rate, args.warmup + args.duration))
    kept = [r for r in results if r[0] >= args.warmup]
    json.dump({"serial": serial[SERIAL_REQUESTS // 5 :], "open": kept}, sys.stdout)


# ---- orchestration -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# `noroshi serve` with the heap frozen just before uvicorn starts (gc.freeze): the cyclic collector
# then no longer walks the ~270k objects of the imported libraries on every full collection, which
# otherwise pauses the server 50-250 ms a few times a minute under load. The proposed runtime change,
# measured here until noroshi/runtime.py does it itself.
_FROZEN_SERVE = """
import gc, sys, uvicorn
run = uvicorn.run
def frozen_run(*args, **kwargs):
    gc.collect()
    gc.freeze()
    run(*args, **kwargs)
uvicorn.run = frozen_run
from noroshi.cli import app
sys.argv[0] = "noroshi"
app()
"""


def _start_server(url: str, port: int, freeze: bool) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NOROSHI_DATABASE_URL": url, "NOROSHI_LOG_LEVEL": "WARNING"}
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    launcher = [sys.executable, "-c", _FROZEN_SERVE] if freeze else [str(ROOT / ".venv/bin/noroshi")]
    cmd = launcher + serve
    server = subprocess.Popen(cmd, env=env, cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"server exited with {server.returncode}") from None
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("server did not answer /healthz within 120 s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL: an overloaded server would finish its whole backlog before exiting."""
    server.terminate()
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _measure(args: argparse.Namespace, port: int, key: str, end: datetime, target: str) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "load",
        "--port",
        str(port),
        "--key",
        key,
        "--target",
        target,
        "--rate",
        str(args.rate),
        "--duration",
        str(args.duration),
        "--warmup",
        str(args.warmup),
        "--brands",
        str(args.brands),
        "--end",
        end.isoformat(),
    ]
    done = subprocess.run(cmd, capture_output=True, check=True, cwd=ROOT)
    return json.loads(done.stdout)


def _stats(measured: dict[str, Any]) -> dict[str, float]:
    lat = np.array([r[1] for r in measured["open"]]) * 1000
    stats = {f"p{q}": float(np.percentile(lat, q)) for q in (50, 90, 99, 100)}
    stats["serial"] = float(np.median(measured["serial"])) * 1000
    stats["errors"] = sum(1 for r in measured["open"] if r[2] != 200)
    stats["timeouts"] = sum(1 for r in measured["open"] if r[2] == 0)
    stats["requests"] = len(measured["open"])
    return stats


def _row(store: str, target: str, s: dict[str, float], base: dict[str, float]) -> str:
    ratio = f"{s['p50'] / base['p50']:.2f}× / {s['p99'] / base['p99']:.2f}×"
    return (
        f"| {store} | {target} | {s['serial']:.1f} | {s['requests']:.0f} "
        f"| {s['errors']:.0f} ({s['timeouts']:.0f}) "
        f"| {s['p50']:.1f} | {s['p90']:.1f} | {s['p99']:.1f} | {s['p100']:.1f} | {ratio} |"
    )


def run_store(args: argparse.Namespace, store: str, url: str) -> list[str]:
    """A fresh server per endpoint: an overloaded endpoint's backlog must not spill into the next one."""
    key = read_key(url)
    engine = make_engine(url)
    end = data_end(engine)
    engine.dispose()
    rows: list[str] = []
    base: dict[str, float] | None = None
    for target in args.targets.split(","):
        port = _free_port()
        server = _start_server(url, port, args.gc_freeze)
        try:
            stats = _stats(_measure(args, port, key, end, target))
        finally:
            _stop(server)
        base = base or stats
        rows.append(_row(store, target, stats, base))
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", nargs="?", default="bench", choices=("bench", "load"))
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument(
        "--targets", default=",".join(TARGETS), help="comma-separated; the first is the ratios' baseline"
    )
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--incidents", type=int, default=5000)
    parser.add_argument(
        "--layout",
        choices=("time", "brand"),
        default="time",
        help="bucket rows' physical order (see api_latency_data)",
    )
    parser.add_argument("--pg", default=os.environ.get("NOROSHI_TEST_DATABASE_URL"))
    parser.add_argument(
        "--gc-freeze", action="store_true", help="start the server with gc.freeze() (see _FROZEN_SERVE)"
    )
    parser.add_argument("--port", type=int)
    parser.add_argument("--key")
    parser.add_argument("--target", choices=TARGETS)
    parser.add_argument("--end")
    args = parser.parse_args()
    if args.mode == "load":
        load_main(args)
        return
    unknown = set(args.targets.split(",")) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {', '.join(TARGETS)}")
    log: list[str] = []
    urls: dict[str, str] = {}
    stores = args.stores.split(",")
    if "sqlite" in stores:
        urls["SQLite"] = sqlite_database(args.brands, args.days, args.incidents, args.layout, log)
    if "postgresql" in stores:
        if args.pg:
            urls["PostgreSQL"] = pg_database(
                args.pg, args.brands, args.days, args.incidents, args.layout, log
            )
        else:
            log.append("PostgreSQL: not measured (give --pg or NOROSHI_TEST_DATABASE_URL)")
    print("\n".join(log), flush=True)
    load_before = os.getloadavg()
    header = [
        "| store | endpoint | serial ms | requests | errors (timeouts) | p50 ms | p90 ms | p99 ms | max ms "
        "| p50 / p99 vs healthz |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    print("\n".join(header), flush=True)
    rows = [row for store, url in urls.items() for row in run_store(args, store, url)]
    print("\n" + "\n".join(header + rows))
    print(
        f"\n{args.rate:.0f} req/s open loop, {args.duration:.0f} s per endpoint, {args.layout} layout "
        f"after {args.warmup:.0f} s warm-up" + (", server heap frozen (gc.freeze)" if args.gc_freeze else "")
    )
    # Other processes on the machine compete for its cores: say how busy it was.
    before, after = (" / ".join(f"{x:.2f}" for x in avg) for avg in (load_before, os.getloadavg()))
    print(f"load average (1/5/15 min) at start {before}, at end {after}; {os.cpu_count()} CPUs")
    print("command: .venv/bin/python " + " ".join(sys.argv))


if __name__ == "__main__":
    main()
