"""Series files in, alert JSON out (for `noroshi detect FILE.csv` and the benchmarks)."""

from __future__ import annotations

import csv
import itertools
import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from detectors.types import BucketPoint, Signal

COUNT_COLUMNS = ("value", "count")
# Counts above 2**53 are no longer exact as floats; the detector sums hours of buckets in int64.
MAX_COUNT = 2**53


def _parse_time(text: str, line: int) -> datetime:
    raw = text.strip()
    if not raw:
        raise ValueError(f"line {line}: empty timestamp")
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"line {line}: timestamp {raw!r} is not ISO 8601 (e.g. 2015-02-26 21:42:53)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _parse_count(text: str | None, column: str, line: int) -> int:
    raw = (text or "").strip()
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"line {line}: {column} {raw!r} is not a number") from None
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise ValueError(f"line {line}: {column} {raw!r} is not a non-negative whole number")
    if value > MAX_COUNT:
        raise ValueError(f"line {line}: {column} {raw!r} is more than {MAX_COUNT:,} posts in one bucket")
    return int(value)


def read_series_csv(path: str | Path, bucket_minutes: int | None = None) -> tuple[list[BucketPoint], int]:
    """Read `timestamp` + `value` (or `count`) [+ `negative`] rows; return points and bucket minutes.

    Naive timestamps are UTC. The cadence is `bucket_minutes`, else the most common gap between
    consecutive rows (a file that leaves out most empty buckets needs it given); rows may be missing
    (no posts collected) but every row must fall on that cadence, one row per bucket.
    Raises ValueError naming the problem (missing column, bad row, unordered, duplicate or off-cadence
    rows, a cadence that does not divide a day).
    """
    try:
        points, lines = _read_rows(path)
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None

    minutes = infer_bucket_minutes(points) if bucket_minutes is None else bucket_minutes
    _check_cadence(points, lines, minutes)
    return points, minutes


def _read_rows(path: str | Path) -> tuple[list[BucketPoint], list[int]]:
    with Path(path).open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in (reader.fieldnames or [])]
        reader.fieldnames = columns
        if "timestamp" not in columns:
            raise ValueError(f"missing column 'timestamp' (found {columns or 'no header'})")
        count_col = next((c for c in COUNT_COLUMNS if c in columns), None)
        if count_col is None:
            raise ValueError(f"missing count column 'value' or 'count' (found {columns})")
        has_negative = "negative" in columns
        points: list[BucketPoint] = []
        lines: list[int] = []  # each point's line in the file (csv skips blank lines)
        for row in reader:
            line = reader.line_num
            start = _parse_time(row.get("timestamp") or "", line)
            total = _parse_count(row.get(count_col), count_col, line)
            negative = _parse_count(row.get("negative"), "negative", line) if has_negative else 0
            if negative > total:
                raise ValueError(f"line {line}: negative {negative} exceeds {count_col} {total}")
            if points and start <= points[-1].start:
                raise ValueError(f"line {line}: timestamp {start.isoformat()} is not after the previous row")
            points.append(BucketPoint(start=start, total=total, negative=negative))
            lines.append(line)
    if not points:
        raise ValueError("no data rows")
    return points, lines


def infer_bucket_minutes(points: Sequence[BucketPoint]) -> int:
    """Most common gap between consecutive points, in whole minutes (5 when there is one point)."""
    gaps = Counter(round((b.start - a.start).total_seconds() / 60) for a, b in itertools.pairwise(points))
    if not gaps:
        return 5
    minutes = gaps.most_common(1)[0][0]
    if minutes < 1:
        raise ValueError("rows are less than a minute apart; one row per bucket is expected")
    return int(minutes)


class CadenceError(ValueError):
    """A row off the file's cadence (the inferred one is wrong when most empty buckets are left out)."""


def _check_cadence(points: Sequence[BucketPoint], lines: Sequence[int], minutes: int) -> None:
    """Every row on the first row's grid; otherwise the detector would fold two rows into one bucket."""
    if 1440 % minutes:
        raise ValueError(
            f"the rows are {minutes} minutes apart, which does not divide a day; the daily pattern needs "
            "a cadence that does (e.g. 1, 5, 10, 15, 30 or 60 minutes)"
        )
    step = timedelta(minutes=minutes)
    first = points[0].start
    for line, point in zip(lines, points, strict=True):
        if (point.start - first) % step:
            raise CadenceError(
                f"line {line}: timestamp {point.start.isoformat()} is off the {minutes}-minute cadence of "
                "the other rows (one row per bucket; a missing bucket may be left out)"
            )


def alerts_json(signals: Sequence[Signal], evidence: bool = False, shares: bool = True) -> dict[str, Any]:
    """One entry per incident that would have been opened (new events only), at the row it opened.

    With `evidence`, each entry also says why (the test that fired, observed, expected, upper band and,
    with `shares`, the negative share against the usual one) and lists the event's later escalations
    and new waves as `updates`. A series without negative counts has no shares worth showing.
    """
    alerts: list[dict[str, Any]] = []
    open_event: dict[str, dict[str, Any]] = {}  # per kind, the entry of its current event
    for signal in signals:
        if signal.escalation:
            event = open_event.get(signal.kind)
            if evidence and event is not None:
                event["updates"].append(_update(signal, shares))
            continue
        entry: dict[str, Any] = {
            "at": signal.at.isoformat(),
            "kind": signal.kind,
            "severity": signal.severity,
            "score": signal.score,
        }
        if evidence:
            entry["evidence"] = _evidence(signal, shares)
            entry["updates"] = []
        open_event[signal.kind] = entry
        alerts.append(entry)
    return {"alerts": alerts}


def _evidence(signal: Signal, shares: bool) -> dict[str, Any]:
    why: dict[str, Any] = {
        "test": signal.test,
        "observed": signal.observed,
        "expected": round(signal.expected, 3),
        "upper": round(signal.upper, 3),
    }
    if shares:
        why["negative_share"] = _rounded(signal.negative_share)
        why["baseline_share"] = _rounded(signal.baseline_share)
    return why


def _update(signal: Signal, shares: bool) -> dict[str, Any]:
    return {
        "at": signal.at.isoformat(),
        "change": "new_wave" if signal.reflare else "escalation",
        "severity": signal.severity,
        "score": signal.score,
        "evidence": _evidence(signal, shares),
    }


def _rounded(share: float | None) -> float | None:
    return None if share is None else round(share, 4)
