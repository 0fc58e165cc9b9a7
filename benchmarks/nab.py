"""NAB realTweets benchmark: score replay()'s alerts with NAB's rule (our own implementation).

    python -m benchmarks.nab [--data DIR] [--sensitivity normal] [--timezone UTC]

Reads `<repo>/../shared/data/nab_realtweets` by default. Each alert is the row where an incident would
have opened (new events, not escalations), as `noroshi detect` reports them. Scoring follows NAB's
sweeper for binary detections: an alert inside a window earns tp·A(-(e-i+1)/w)/A(-1) for the first
alert only (A(y) = 2/(1+e^{5y}) − 1), an alert outside earns fp·A((i − e_prev)/(w_prev − 1)) (−fp far
from or before any window), a missed window costs fn; the first 15 % of rows (at most 750) are
probation and not scored. Scores are normalised per profile: 0 = never alerts, 100 = an alert at every
window start.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from detectors import DetectorConfig, replay
from detectors.csvio import alerts_json, read_series_csv

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "nab_realtweets"
PROFILES: dict[str, tuple[float, float, float]] = {  # tp, fp, fn weights (NAB config/profiles.json)
    "standard": (1.0, 0.11, 1.0),
    "reward_low_FP_rate": (1.0, 0.22, 1.0),
    "reward_low_FN_rate": (1.0, 0.11, 2.0),
}
SHORT = {"standard": "standard", "reward_low_FP_rate": "low FP", "reward_low_FN_rate": "low FN"}


def scaled_sigmoid(position: float) -> float:
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


@dataclass
class FileScore:
    raw: dict[str, float]
    windows: int
    detected: int
    false_alerts: int  # scored alert rows outside every window
    first_delay_rows: list[int]  # per detected window, rows from window start to first alert


def score_file(n_rows: int, alert_rows: set[int], windows: list[tuple[int, int]]) -> FileScore:
    """NAB score of binary alerts at row indices for one file, per profile (unnormalised)."""
    probation = min(math.floor(0.15 * n_rows), 0.15 * 5000)
    max_tp = scaled_sigmoid(-1.0)
    raw = dict.fromkeys(PROFILES, 0.0)
    detected: dict[int, int] = {}
    false_alerts = 0
    pending = sorted(windows)
    current: tuple[int, int] | None = None
    w_index = -1
    prev_end: int | None = None
    prev_width = 0.0
    for i in range(n_rows):
        if pending and i == pending[0][0]:
            current = pending.pop(0)
            w_index += 1
        if i in alert_rows and i >= probation:
            if current is not None:
                width = current[1] - current[0] + 1
                if w_index not in detected:
                    detected[w_index] = i
                    unweighted = scaled_sigmoid(-(current[1] - i + 1) / width)
                    for name, (tp, _fp, _fn) in PROFILES.items():
                        raw[name] += unweighted * tp / max_tp
            else:
                position = 3.0 if prev_end is None else abs(prev_end - i) / (prev_width - 1)
                unweighted = scaled_sigmoid(position)
                false_alerts += 1
                for name, (_tp, fp, _fn) in PROFILES.items():
                    raw[name] += unweighted * fp
        if current is not None and i == current[1]:
            prev_end, prev_width = i, float(current[1] - current[0] + 1)
            current = None
    missed = len(windows) - len(detected)
    for name, (_tp, _fp, fn) in PROFILES.items():
        raw[name] -= missed * fn
    delays = [row - sorted(windows)[k][0] for k, row in sorted(detected.items())]
    return FileScore(raw, len(windows), len(detected), false_alerts, delays)


def normalise(raw: float, windows: int, profile: str) -> float:
    tp, _fp, fn = PROFILES[profile]
    null, perfect = -fn * windows, tp * windows
    return 100.0 * (raw - null) / (perfect - null)


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.split(".")[0]).replace(tzinfo=UTC)


def run(data: Path, config_kwargs: dict[str, object]) -> list[tuple[str, FileScore, float]]:
    windows_json = json.loads((data / "combined_windows.json").read_text(encoding="utf-8"))
    results = []
    for key in sorted(windows_json):
        path = data / Path(key).name
        try:
            points, minutes = read_series_csv(path)
        except ValueError as exc:
            raise SystemExit(f"{path}: {exc}") from None
        index = {p.start: i for i, p in enumerate(points)}
        windows = [(index[_parse(a)], index[_parse(b)]) for a, b in windows_json[key]]
        started = time.perf_counter()
        signals = replay(points, DetectorConfig(bucket_minutes=minutes, **config_kwargs))  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        alerts = {index[datetime.fromisoformat(a["at"])] for a in alerts_json(signals)["alerts"]}
        results.append(
            (path.stem.replace("Twitter_volume_", ""), score_file(len(points), alerts, windows), elapsed)
        )
    return results


def table(results: list[tuple[str, FileScore, float]], command: str) -> str:
    lines = [
        f"`{command}`",
        "",
        "| series | windows | detected | false alerts | first alert (h after window start) "
        "| standard | low FP | low FN | replay s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, score, elapsed in results:
        per = [f"{normalise(score.raw[p], score.windows, p):.1f}" for p in PROFILES]
        delays = ", ".join(f"{d / 12:.1f}" for d in score.first_delay_rows) or "–"
        lines.append(
            f"| {name} | {score.windows} | {score.detected} | {score.false_alerts} | {delays} | "
            + " | ".join(per)
            + f" | {elapsed:.2f} |"
        )
    total_windows = sum(s.windows for _, s, _ in results)
    totals = [normalise(sum(s.raw[p] for _, s, _ in results), total_windows, p) for p in PROFILES]
    lines.append(
        f"| **all** | {total_windows} | {sum(s.detected for _, s, _ in results)} | "
        f"{sum(s.false_alerts for _, s, _ in results)} | | "
        + " | ".join(f"**{t:.1f}**" for t in totals)
        + f" | {sum(e for _, _, e in results):.2f} |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sensitivity", default="normal", choices=["low", "normal", "high"])
    parser.add_argument("--timezone", default="UTC", help="brand timezone (NAB gives none; UTC default)")
    args = parser.parse_args(argv)
    if not (args.data / "combined_windows.json").exists():
        print(f"NAB data not found at {args.data} (expected combined_windows.json and the CSVs); skipping.")
        return 0
    results = run(args.data, {"sensitivity": args.sensitivity, "timezone": args.timezone})
    command = "python -m benchmarks.nab " + " ".join(sys.argv[1:] if argv is None else argv)
    print(table(results, command.strip()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
