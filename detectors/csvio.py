"""Series files in, alert JSON out (for `noroshi detect FILE.csv` and the benchmarks)."""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from detectors.types import BucketPoint, Signal

COUNT_COLUMNS = ("value", "count")


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
    if value < 0 or value != int(value):
        raise ValueError(f"line {line}: {column} {raw!r} is not a non-negative whole number")
    return int(value)


def read_series_csv(path: str | Path) -> tuple[list[BucketPoint], int]:
    """Read `timestamp` + `value` (or `count`) [+ `negative`] rows; return points and bucket minutes.

    Naive timestamps are UTC. The cadence is the most common gap between consecutive rows.
    Raises ValueError naming the problem (missing column, bad row, unordered or duplicate rows).
    """
    with Path(path).open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in (reader.fieldnames or [])]
        reader.fieldnames = columns
        if "timestamp" not in columns:
            raise ValueError(f"{path}: missing column 'timestamp' (found {columns or 'no header'})")
        count_col = next((c for c in COUNT_COLUMNS if c in columns), None)
        if count_col is None:
            raise ValueError(f"{path}: missing count column 'value' or 'count' (found {columns})")
        has_negative = "negative" in columns
        points: list[BucketPoint] = []
        for line, row in enumerate(reader, start=2):
            start = _parse_time(row.get("timestamp") or "", line)
            total = _parse_count(row.get(count_col), count_col, line)
            negative = _parse_count(row.get("negative"), "negative", line) if has_negative else 0
            if negative > total:
                raise ValueError(f"line {line}: negative {negative} exceeds {count_col} {total}")
            if points and start <= points[-1].start:
                raise ValueError(f"line {line}: timestamp {start.isoformat()} is not after the previous row")
            points.append(BucketPoint(start=start, total=total, negative=negative))
    if not points:
        raise ValueError(f"{path}: no data rows")
    return points, infer_bucket_minutes(points)


def infer_bucket_minutes(points: Sequence[BucketPoint]) -> int:
    """Most common gap between consecutive points, in whole minutes (5 when there is one point)."""
    gaps = Counter(round((b.start - a.start).total_seconds() / 60) for a, b in itertools.pairwise(points))
    if not gaps:
        return 5
    minutes = gaps.most_common(1)[0][0]
    if minutes < 1:
        raise ValueError("rows are less than a minute apart; one row per bucket is expected")
    return int(minutes)


def alerts_json(signals: Sequence[Signal]) -> dict[str, Any]:
    """One entry per incident that would have been opened (new events only), at the row it opened."""
    return {
        "alerts": [
            {"at": s.at.isoformat(), "kind": s.kind, "severity": s.severity, "score": s.score}
            for s in signals
            if not s.escalation
        ]
    }
