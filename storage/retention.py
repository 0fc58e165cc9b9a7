"""Retention: prune old mentions in small batches without blocking the ingest path.

What goes: mentions posted before the cutoff, their `mention_brands` links, and the `bucket_authors`
rows of buckets that ended before the cutoff. What stays: buckets (their counts, unique-author counts
included, are already stored and are what detection and charts read), incidents and their timeline.

Why batches: each batch is its own short transaction that deletes at most `batch_size` mentions by
primary key (`id IN (…)`), so it only row-locks rows nobody ingests any more (they are months old) and
never holds a lock across batches. Ingest inserts new rows and upserts recent buckets; it never waits
on a prune for longer than one batch, and in practice not at all (it touches different rows).

Late posts into a pruned bucket: `collectors/buckets.py` counts a bucket's unique authors through its
`bucket_authors` rows. Once they are pruned, a late post older than the cutoff still adds exactly to
`total`, `negative` and `reach`, but its author counts as new in that bucket even if they had posted
there before (at most +1 author per late post). We accept that rather than keep author sets forever:
posts arrive months late only from a deliberate historical backfill, and such a post is itself pruned
by the next run. `noroshi buckets rebuild` after a prune recounts only the mentions that remain, so
run it on windows inside the retention period only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from storage.brands import Brand
from storage.engine import transaction
from storage.mentions import BucketAuthor, Mention, MentionBrand

DEFAULT_BATCH = 500


@dataclass(slots=True)
class PruneReport:
    cutoff: datetime
    dry_run: bool = False
    mentions: int = 0
    mention_brands: int = 0
    bucket_authors: int = 0
    batches: int = 0

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"{verb} {self.mentions} mentions, {self.mention_brands} brand links, "
            f"{self.bucket_authors} bucket author rows posted before {self.cutoff.isoformat()}"
        )


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _delete_mention_batch(session: Session, cutoff: datetime, batch_size: int) -> tuple[int, int]:
    """Delete up to `batch_size` of the oldest mentions before `cutoff` and their brand links."""
    ids = list(
        session.scalars(
            select(Mention.id).where(Mention.posted_at < cutoff).order_by(Mention.id).limit(batch_size)
        )
    )
    if not ids:
        return 0, 0
    # Links first, explicitly: SQLite enforces the ON DELETE CASCADE only with foreign_keys=ON.
    links = _rowcount(session.execute(delete(MentionBrand).where(MentionBrand.mention_id.in_(ids))))
    mentions = _rowcount(session.execute(delete(Mention).where(Mention.id.in_(ids))))
    return mentions, links


def _widths(session: Session) -> dict[int, list[int]]:
    """Brand ids by bucket width in minutes (few distinct widths, so one delete per width and batch)."""
    by_width: dict[int, list[int]] = defaultdict(list)
    for brand_id, minutes in session.execute(select(Brand.id, Brand.bucket_minutes)):
        by_width[minutes].append(brand_id)
    return by_width


def _ended_before(cutoff: datetime, minutes: int, brand_ids: list[int]) -> Any:
    """`bucket_authors` rows of buckets that ended at or before the cutoff (start + width ≤ cutoff)."""
    return (BucketAuthor.brand_id.in_(brand_ids)) & (
        BucketAuthor.start <= cutoff - timedelta(minutes=minutes)
    )


def _delete_author_batch(session: Session, where: Any, batch_size: int) -> int:
    key = tuple_(BucketAuthor.brand_id, BucketAuthor.start, BucketAuthor.author)
    batch = select(BucketAuthor.brand_id, BucketAuthor.start, BucketAuthor.author).where(where)
    return _rowcount(session.execute(delete(BucketAuthor).where(key.in_(batch.limit(batch_size)))))


def _count(factory: sessionmaker[Session], cutoff: datetime) -> PruneReport:
    report = PruneReport(cutoff=cutoff, dry_run=True)
    with factory() as session:
        report.mentions = (
            session.scalar(select(func.count(Mention.id)).where(Mention.posted_at < cutoff)) or 0
        )
        report.mention_brands = (
            session.scalar(
                select(func.count())
                .select_from(MentionBrand)
                .join(Mention, Mention.id == MentionBrand.mention_id)
                .where(Mention.posted_at < cutoff)
            )
            or 0
        )
        for minutes, brand_ids in _widths(session).items():
            where = _ended_before(cutoff, minutes, brand_ids)
            report.bucket_authors += (
                session.scalar(select(func.count()).select_from(BucketAuthor).where(where)) or 0
            )
    return report


def prune_mentions(
    factory: sessionmaker[Session],
    now: datetime,
    older_than: timedelta,
    batch_size: int = DEFAULT_BATCH,
    *,
    dry_run: bool = False,
    after_batch: Callable[[PruneReport], None] | None = None,
) -> PruneReport:
    """Delete mentions posted before `now - older_than` (and their links and old author sets), batch by batch.

    `after_batch` is called after each committed batch (progress logging; tests use it to interleave).
    """
    if older_than <= timedelta(0):
        raise ValueError("older_than must be positive (a retention of 0 means: do not prune)")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    cutoff = now - older_than
    if dry_run:
        return _count(factory, cutoff)
    report = PruneReport(cutoff=cutoff)

    def committed() -> None:
        report.batches += 1
        if after_batch is not None:
            after_batch(report)

    while True:
        with transaction(factory) as session:
            mentions, links = _delete_mention_batch(session, cutoff, batch_size)
        if not mentions:
            break
        report.mentions += mentions
        report.mention_brands += links
        committed()
    with factory() as session:
        widths = _widths(session)
    for minutes, brand_ids in sorted(widths.items()):
        where = _ended_before(cutoff, minutes, brand_ids)
        while True:
            with transaction(factory) as session:
                deleted = _delete_author_batch(session, where, batch_size)
            if not deleted:
                break
            report.bucket_authors += deleted
            committed()
    return report
