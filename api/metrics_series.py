"""A brand's bucket series resampled to a chart resolution: counts summed, expectation and band combined.

The grid: points start at the brand's local midnight and step by the resolution (a day point is a
calendar day in the brand's timezone, so 23 or 25 hours across a DST change; a sub-day grid restarts
at each local midnight, so a DST day's last point may be shorter).

The database does the heavy part: buckets are grouped in SQL by a unit that divides every grid
boundary (the gcd of their distances from the epoch, e.g. 3 h for JST days), so a 30-day hourly chart
reads 720 grouped rows, not 8,640 buckets. Python then adds the groups into their points.

Combining the band: each bucket's band half-width (upper − expected) is taken as a multiple z of that
bucket's standard deviation. For a sum of independent buckets the deviation is the root of the summed
variances, so the point's band is expected + sqrt(Σ(upper_i − expected_i)²) at the same z. Positive
correlation between neighbouring buckets (a real flare lasts) makes the true band wider; the chart's
band is therefore a little tight for long points, which errs towards showing more, not less.
"""

from __future__ import annotations

import math
import sqlite3
from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import BigInteger, Integer, Select, bindparam, case, cast, func, literal_column, select
from sqlalchemy.orm import Session

from storage.mentions import Bucket
from storage.timebuckets import EPOCH
from storage.types import UTCDateTime

ONE_DAY = timedelta(days=1)


def grid(since: datetime, until: datetime, minutes: int, timezone: str) -> list[datetime]:
    """Boundaries of the points covering [since, until): n + 1 UTC instants for n points."""
    zone = ZoneInfo(timezone)
    step = timedelta(minutes=minutes)
    day = since.astimezone(zone).date() - ONE_DAY  # a day early: a DST jump never skips `since`
    last_day = until.astimezone(zone).date()
    bounds: list[datetime] = []
    while day <= last_day:
        midnight = datetime.combine(day, time(0), tzinfo=zone).astimezone(EPOCH.tzinfo)
        next_midnight = datetime.combine(day + ONE_DAY, time(0), tzinfo=zone).astimezone(EPOCH.tzinfo)
        at = midnight
        while at < next_midnight:  # UTC arithmetic: the step is elapsed time, not wall-clock time
            bounds.append(at)
            at += step
        day += ONE_DAY
    bounds.append(next_midnight)
    first = bisect_right(bounds, since) - 1
    end = bisect_right(bounds, until - timedelta(microseconds=1))
    return bounds[first : end + 1]


def group_seconds(edges: np.ndarray) -> int:
    """The largest unit that divides every boundary (epoch seconds), so groups never straddle a point."""
    return int(np.gcd.reduce(edges))


# Seconds since the epoch of a bucket start, as an integer SQL expression, per dialect. SQLite's
# unixepoch() (3.38+) is twice as fast as strftime('%s') on a 30-day range; older libraries fall back.
_SQLITE_UNIXEPOCH = sqlite3.sqlite_version_info >= (3, 38)
_EPOCH_SECONDS: dict[str, Callable[[Any], Any]] = {
    "postgresql": lambda column: cast(func.extract("epoch", column), BigInteger),
    "sqlite": lambda column: (
        func.unixepoch(column, type_=Integer)
        if _SQLITE_UNIXEPOCH
        else cast(func.strftime("%s", column), Integer)
    ),
}
# Columns of the grouped query after the group key, in order (sums over the group's buckets).
SUMS = (
    "buckets",
    "total",
    "negative",
    "authors",
    "with_expectation",
    "expected",
    "band_variance",  # Σ (upper_i − expected_i)²
    "share_weight",  # Σ expected_i over buckets with a baseline share
    "share_weighted",  # Σ expected_i · baseline_share_i
    "share_count",
    "share_sum",
)
COL = {name: i for i, name in enumerate(SUMS)}


@lru_cache(maxsize=64)
def _grouped_query(dialect: str, unit: int) -> Select[Any]:
    """The grouped statement for one group width, built once (SQLAlchemy then reuses its compiled form)."""
    width = literal_column(str(int(unit)))  # an int we computed: safe, and one GROUP BY expression
    key = _EPOCH_SECONDS[dialect](Bucket.start).op("/")(width)  # integer division on both dialects
    spread = Bucket.upper - Bucket.expected
    share_expected = case((Bucket.baseline_share.is_not(None), Bucket.expected))

    def total(expr: Any) -> Any:
        return func.coalesce(func.sum(expr), 0)

    return (
        select(
            key,
            func.count(),
            total(Bucket.total),
            total(Bucket.negative),
            total(Bucket.authors),
            func.count(Bucket.expected),
            total(Bucket.expected),
            total(spread * spread),
            total(share_expected),
            total(Bucket.expected * Bucket.baseline_share),
            func.count(Bucket.baseline_share),
            total(Bucket.baseline_share),
        )
        .where(
            Bucket.brand_id == bindparam("brand_id"),
            Bucket.start >= bindparam("since", type_=UTCDateTime()),
            Bucket.start < bindparam("until", type_=UTCDateTime()),
        )
        .group_by(key)
    )


def _grouped(session: Session, brand_id: int, since: datetime, until: datetime, unit: int) -> np.ndarray:
    """One row per group: [group start in epoch seconds, *SUMS] (NULL sums as 0)."""
    query = _grouped_query(session.get_bind().dialect.name, unit)
    # On the connection, not the session: plain rows, without the ORM's per-row loading machinery.
    result = session.connection().execute(query, {"brand_id": brand_id, "since": since, "until": until})
    rows = [tuple(row) for row in result]
    data = np.array(rows, dtype=np.float64).reshape(-1, 1 + len(SUMS))
    data[:, 0] *= unit
    return data


def _sums_per_point(data: np.ndarray, edges: np.ndarray) -> np.ndarray:
    sums = np.zeros((len(edges) - 1, len(SUMS)))
    np.add.at(sums, np.searchsorted(edges, data[:, 0], side="right") - 1, data[:, 1:])
    return sums


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.tolist()]


def metric_points(
    session: Session, brand_id: int, bounds: list[datetime], bucket_minutes: int
) -> list[dict[str, Any]]:
    """One point per grid step (zeros where nothing was stored), as JSON-ready dicts (see MetricPoint).

    Plain dicts and vectorised sums rather than a model per point: a 30-day hourly chart is 720 points,
    and this endpoint is meant to answer at chart-refresh rates (benchmarks/api_latency.py)."""
    edges = np.array([int((b - EPOCH).total_seconds()) for b in bounds], dtype=np.int64)
    s = _sums_per_point(_grouped(session, brand_id, bounds[0], bounds[-1], group_seconds(edges)), edges)
    seconds = np.diff(edges)
    total, negative = s[:, COL["total"]], s[:, COL["negative"]]
    # every bucket of the point evaluated, or the sums of observed and expected are not comparable
    complete = s[:, COL["with_expectation"]] >= np.ceil(seconds / (bucket_minutes * 60))
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(complete, s[:, COL["expected"]], np.nan)
        upper = expected + np.sqrt(s[:, COL["band_variance"]])
        weighted = s[:, COL["share_weighted"]] / s[:, COL["share_weight"]]
        plain = s[:, COL["share_sum"]] / s[:, COL["share_count"]]
        share = np.where(s[:, COL["share_weight"]] > 0, weighted, plain)
        negative_share = np.where(total > 0, negative / total, np.nan)
    anomalous = (complete & (total > np.nan_to_num(upper, nan=np.inf))).tolist()
    iso = [t + "Z" for t in np.datetime_as_string(edges.astype("datetime64[s]"), unit="s").tolist()]
    rows = zip(
        iso,
        iso[1:],
        total.astype(int).tolist(),
        negative.astype(int).tolist(),
        _nullable(negative_share),
        s[:, COL["authors"]].astype(int).tolist(),
        _nullable(expected),
        _nullable(upper),
        _nullable(share),
        anomalous,
        strict=False,  # iso has one more entry (the last end)
    )
    return [
        {
            "start": start,
            "end": end,
            "total": n,
            "negative": neg,
            "negative_share": neg_share,
            "authors": authors,
            "expected": exp,
            "upper": up,
            "baseline_share": base,
            "anomalous": flag,
        }
        for start, end, n, neg, neg_share, authors, exp, up, base, flag in rows
    ]
