"""Counting mentions into per-brand time buckets: incremental deltas at insert, full rebuild on demand."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
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


def rebuild_buckets(session: Session, brand_ids: Iterable[int] | None = None) -> int:
    """Recompute buckets (and their author sets) from stored mentions; returns mentions counted."""
    brands = session.scalars(select(Brand)).all()
    wanted = set(brand_ids) if brand_ids is not None else {b.id for b in brands}
    minutes = {b.id: b.bucket_minutes for b in brands if b.id in wanted}
    if not minutes:
        return 0
    session.execute(delete(Bucket).where(Bucket.brand_id.in_(minutes)))
    session.execute(delete(BucketAuthor).where(BucketAuthor.brand_id.in_(minutes)))
    query = (
        select(
            MentionBrand.brand_id,
            Mention.posted_at,
            Mention.negative,
            Mention.author_followers,
            Mention.author,
        )
        .join(Mention, Mention.id == MentionBrand.mention_id)
        .where(MentionBrand.brand_id.in_(minutes))
    )
    counted = 0
    deltas: Deltas = defaultdict(_Delta)
    for brand_id, posted_at, negative, followers, author in session.execute(query).all():
        _accumulate(deltas, [CountedMention(brand_id, posted_at, negative, followers or 0, author)], minutes)
        counted += 1
    _write_deltas(session, deltas)
    return counted
