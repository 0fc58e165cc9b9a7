"""Counting mentions into per-brand time buckets: incremental deltas at insert, full rebuild on demand."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session

from storage.brands import Brand
from storage.mentions import Bucket, BucketAuthor, Mention, MentionBrand
from storage.timebuckets import bucket_start
from storage.upsert import insert_ignore, upsert_add


@dataclass(frozen=True, slots=True)
class CountedMention:
    brand_id: int
    posted_at: datetime
    negative: bool
    followers: int
    author: str | None


@dataclass(slots=True)
class _Delta:
    total: int = 0
    negative: int = 0
    reach: int = 0
    authors: set[str] = field(default_factory=set)


Deltas = dict[tuple[int, datetime], _Delta]


def _accumulate(
    deltas: Deltas, mentions: Iterable[CountedMention], minutes_by_brand: dict[int, int]
) -> Deltas:
    for m in mentions:
        delta = deltas[(m.brand_id, bucket_start(m.posted_at, minutes_by_brand[m.brand_id]))]
        delta.total += 1
        delta.negative += int(m.negative)
        delta.reach += max(m.followers, 0)
        if m.author:
            delta.authors.add(m.author)
    return deltas


def add_to_buckets(
    session: Session, mentions: Iterable[CountedMention], minutes_by_brand: dict[int, int]
) -> int:
    """Add newly stored mentions to their buckets; call in the same transaction as the insert.

    Increments are applied with INSERT … ON CONFLICT DO UPDATE (total = total + n), so concurrent
    writers on PostgreSQL never overwrite each other's counts. Unique authors go through
    `bucket_authors`: only an author not yet seen in that bucket increments the count.
    Returns the number of buckets touched.
    """
    return _write_deltas(session, _accumulate(defaultdict(_Delta), mentions, minutes_by_brand))


def _write_deltas(session: Session, deltas: Deltas) -> int:
    if not deltas:
        return 0
    author_rows = [
        {"brand_id": b, "start": s, "author": a[:255]} for (b, s), d in deltas.items() for a in d.authors
    ]
    new_authors: dict[tuple[int, datetime], int] = defaultdict(int)
    for brand_id, start in insert_ignore(
        session,
        BucketAuthor.__table__,
        author_rows,
        conflict=("brand_id", "start", "author"),
        returning=("brand_id", "start"),
    ):
        new_authors[(brand_id, start)] += 1
    rows = [
        {
            "brand_id": b,
            "start": s,
            "total": d.total,
            "negative": d.negative,
            "reach": d.reach,
            "authors": new_authors.get((b, s), 0),
        }
        for (b, s), d in sorted(deltas.items())
    ]
    upsert_add(
        session,
        Bucket.__table__,
        rows,
        conflict=("brand_id", "start"),
        add=("total", "negative", "reach", "authors"),
    )
    return len(rows)


def first_rebuilt_bucket(since: datetime, minutes: int) -> datetime:
    """The first bucket boundary at or after `since`.

    Rounding up, not down: the bucket holding `since` may have lost its earlier mentions to a prune
    (which deletes by `posted_at < cutoff`), so recounting it would undercount. It is kept instead.
    """
    start = bucket_start(since, minutes)
    return start if start == since else start + timedelta(minutes=minutes)


def _brands_by_width(session: Session, brand_ids: Iterable[int] | None) -> dict[int, list[int]]:
    wanted = set(brand_ids) if brand_ids is not None else None
    by_width: dict[int, list[int]] = defaultdict(list)
    for brand_id, minutes in session.execute(select(Brand.id, Brand.bucket_minutes).order_by(Brand.id)):
        if wanted is None or brand_id in wanted:
            by_width[minutes].append(brand_id)
    return by_width


def _rebuild_width(session: Session, minutes: int, brand_ids: list[int], since: datetime | None) -> int:
    """Recount the buckets of brands sharing one bucket width, from `since` (a boundary) or from the start."""
    in_bucket_range: ColumnElement[bool] = Bucket.brand_id.in_(brand_ids)
    in_author_range: ColumnElement[bool] = BucketAuthor.brand_id.in_(brand_ids)
    in_mention_range: ColumnElement[bool] = MentionBrand.brand_id.in_(brand_ids)
    if since is not None:
        in_bucket_range &= Bucket.start >= since
        in_author_range &= BucketAuthor.start >= since
        in_mention_range &= MentionBrand.posted_at >= since
    # Counts are recomputed; the detector's expectations (alerting/expectations.py) are not derivable
    # from mentions, so rows carrying one are zeroed rather than deleted and keep their expectation.
    no_expectation = Bucket.expected.is_(None) & Bucket.upper.is_(None) & Bucket.baseline_share.is_(None)
    session.execute(delete(Bucket).where(in_bucket_range, no_expectation))
    session.execute(update(Bucket).where(in_bucket_range).values(total=0, negative=0, reach=0, authors=0))
    session.execute(delete(BucketAuthor).where(in_author_range))
    query = (
        select(
            MentionBrand.brand_id,
            Mention.posted_at,
            Mention.negative,
            Mention.author_followers,
            Mention.author,
        )
        .join(Mention, Mention.id == MentionBrand.mention_id)
        .where(in_mention_range)
    )
    widths = dict.fromkeys(brand_ids, minutes)
    deltas: Deltas = defaultdict(_Delta)
    counted = 0
    for brand_id, posted_at, negative, followers, author in session.execute(query):
        _accumulate(deltas, [CountedMention(brand_id, posted_at, negative, followers or 0, author)], widths)
        counted += 1
    _write_deltas(session, deltas)
    return counted


def rebuild_buckets(
    session: Session, brand_ids: Iterable[int] | None = None, since: datetime | None = None
) -> int:
    """Recompute buckets (and their author sets) from stored mentions; returns mentions counted.

    With `since`, only buckets starting at or after `first_rebuilt_bucket(since, width)` are deleted
    and recounted; older buckets are left untouched. After a retention prune, pass a `since` no earlier
    than the prune's cutoff, or the buckets whose mentions were pruned would be emptied.
    """
    if since is not None and since.tzinfo is None:
        raise ValueError("since must be timezone-aware")
    counted = 0
    for minutes, ids in sorted(_brands_by_width(session, brand_ids).items()):
        start = first_rebuilt_bucket(since, minutes) if since is not None else None
        counted += _rebuild_width(session, minutes, ids, start)
    return counted
