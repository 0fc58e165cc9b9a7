"""Bucket counts of many brands read at once into numpy arrays, for the detection tick.

A live tick reads 28 days of 5-minute buckets (8,064 rows) for every brand. Read as ORM objects or
through the UTC datetime type, that cost several times the detector itself; here a whole batch of
brands comes back in one query, one row per brand, and bucket starts become integer epoch seconds
without a Python datetime per row. Each brand may start at its own time (`load_bucket_ranges`): the
tick's history cache (alerting/history_cache.py) reads only the recent tail of the brands it holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, ColumnElement, Text, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from storage.mentions import Bucket


@dataclass(frozen=True, slots=True)
class BucketSeries:
    """One brand's stored buckets, ordered by start (absent buckets are simply not there)."""

    epoch: np.ndarray  # int64: bucket start, seconds since the UTC epoch
    total: np.ndarray  # int64
    negative: np.ndarray  # int64
    authors: np.ndarray  # int64 (0 = unknown)
    reach: np.ndarray  # int64

    def between(self, first: int, last: int) -> BucketSeries:
        """The buckets starting in [first, last] (epoch seconds)."""
        lo = int(np.searchsorted(self.epoch, first, side="left"))
        hi = int(np.searchsorted(self.epoch, last, side="right"))
        return self.masked(slice(lo, hi))

    def masked(self, rows: slice | np.ndarray) -> BucketSeries:
        return BucketSeries(
            self.epoch[rows], self.total[rows], self.negative[rows], self.authors[rows], self.reach[rows]
        )


COLUMNS = 5
EMPTY = BucketSeries(*(np.zeros(0, dtype=np.int64) for _ in range(COLUMNS)))


def _starts(dialect: str) -> ColumnElement[Any]:
    """Bucket starts as PostgreSQL computes epoch seconds; SQLite's stored text as it is (naive UTC
    'YYYY-MM-DD HH:MM:SS.ffffff'): numpy parses it faster than SQLite's strftime per row."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", Bucket.start), BigInteger)
    return Bucket.start


def _joined(column: ColumnElement[Any], dialect: str) -> ColumnElement[str]:
    """All the group's values as one comma-separated string."""
    if dialect == "postgresql":
        return func.string_agg(cast(column, Text), ",")
    return func.group_concat(column, ",")


def _parse(text: str) -> np.ndarray:
    return np.fromstring(text, dtype=np.int64, sep=",")  # text mode: C-speed parse of "1,2,3"


def _parse_starts(text: str, dialect: str) -> np.ndarray:
    if dialect == "postgresql":
        return _parse(text)
    return np.array(text.split(","), dtype="datetime64[us]").astype(np.int64) // 1_000_000


def load_bucket_series(
    session: Session, brand_ids: Sequence[int], since: datetime, until: datetime
) -> dict[int, BucketSeries]:
    """Every brand's buckets starting in [since, until], one query for all of them (brands without
    any are left out)."""
    return load_bucket_ranges(session, dict.fromkeys(brand_ids, since), until)


def _ranges(since_by_brand: Mapping[int, datetime], until: datetime) -> ColumnElement[bool]:
    """Each brand's rows from its own `since` to `until`. Brands are grouped by `since` (a tick has
    one or two distinct values in the steady state: full reads and the detection tick's cached
    brands reading their tail), so the condition stays an OR of a few `brand_id IN (...) AND start
    >= ...` terms, which PostgreSQL runs as a BitmapOr of index range scans (one per term)."""
    groups: dict[datetime, list[int]] = {}
    for brand_id, since in since_by_brand.items():
        groups.setdefault(since, []).append(brand_id)
    terms = [and_(Bucket.brand_id.in_(ids), Bucket.start >= since) for since, ids in groups.items()]
    return and_(or_(*terms), Bucket.start <= until)


def load_bucket_ranges(
    session: Session, since_by_brand: Mapping[int, datetime], until: datetime
) -> dict[int, BucketSeries]:
    """Each brand's buckets starting in [its since, until], one query for all of them (brands without
    any are left out)."""
    if not since_by_brand:
        return {}
    dialect = session.get_bind().dialect.name
    # One row per brand with each column joined into a string: millions of rows of Python ints cost
    # more than the database's scan; numpy parses the strings in C. The aggregates see the rows in
    # the same order (each row feeds every aggregate at once), so the columns line up; that order
    # is not guaranteed to be by start, so the arrays are sorted afterwards.
    columns = (_starts(dialect), Bucket.total, Bucket.negative, Bucket.authors, Bucket.reach)
    query = (
        select(Bucket.brand_id, *(_joined(column, dialect) for column in columns))
        .where(_ranges(since_by_brand, until))
        .group_by(Bucket.brand_id)
    )
    out: dict[int, BucketSeries] = {}
    for brand_id, starts, *texts in session.execute(query):
        epoch, counts = _parse_starts(starts, dialect), [_parse(text) for text in texts]
        order = np.argsort(epoch, kind="stable")
        out[brand_id] = BucketSeries(epoch[order], *(values[order] for values in counts))
    return out
