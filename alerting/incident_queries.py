"""Read-only queries about one incident's brand, shared by the pages and the notification summary.

Buckets are read by their primary key (brand_id, start) and mentions through mention_brands'
(brand_id, posted_at) index, so the cost follows the window shown, not how much is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.drivers import top_terms
from storage.brands import Brand
from storage.incidents import DetectorRun, Incident
from storage.mentions import Bucket, Mention, MentionBrand

TEXT_SAMPLE = 3000  # posts per side fed to the term ranking
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """Mentions of one brand in one time slot (a bucket, or an hour when resampled)."""

    start: datetime
    total: int
    negative: int


def share(negative: int, total: int) -> float | None:
    return negative / total if total > 0 else None


def bucket_series(session: Session, brand_id: int, since: datetime, until: datetime) -> list[SeriesPoint]:
    rows = session.execute(
        select(Bucket.start, Bucket.total, Bucket.negative)
        .where(Bucket.brand_id == brand_id, Bucket.start >= since, Bucket.start < until)
        .order_by(Bucket.start)
    ).all()
    return [SeriesPoint(start, total, negative) for start, total, negative in rows]


def dense_series(
    session: Session, brand_id: int, since: datetime, until: datetime, step: timedelta
) -> list[SeriesPoint]:
    """Bucket series over [since, until) with a zero point for every bucket nobody posted in."""
    by_start = {p.start: p for p in bucket_series(session, brand_id, since, until)}
    slots = int((until - since) / step)
    starts = (since + i * step for i in range(slots))
    return [by_start.get(s, SeriesPoint(s, 0, 0)) for s in starts]


def counts_since(
    session: Session, brand_ids: Sequence[int], since: datetime, until: datetime | None = None
) -> dict[int, tuple[int, int]]:
    """Per brand, (total, negative) mentions in buckets starting in [since, until)."""
    if not brand_ids:
        return {}
    query = (
        select(Bucket.brand_id, func.sum(Bucket.total), func.sum(Bucket.negative))
        .where(Bucket.brand_id.in_(list(brand_ids)), Bucket.start >= since)
        .group_by(Bucket.brand_id)
    )
    if until is not None:
        query = query.where(Bucket.start < until)
    rows = session.execute(query)
    return {brand_id: (int(total or 0), int(negative or 0)) for brand_id, total, negative in rows}


def brand_counts(session: Session, brand_id: int, since: datetime, until: datetime) -> tuple[int, int]:
    """(total, negative) mentions of one brand in buckets starting in [since, until)."""
    return counts_since(session, [brand_id], since, until).get(brand_id, (0, 0))


def detector_runs(session: Session, brand_ids: Sequence[int]) -> dict[int, DetectorRun]:
    if not brand_ids:
        return {}
    runs = session.scalars(select(DetectorRun).where(DetectorRun.brand_id.in_(list(brand_ids))))
    return {run.brand_id: run for run in runs}


def _reach() -> Any:
    return func.coalesce(Mention.author_followers, 0) + func.coalesce(Mention.reposts, 0)


def top_posts(
    session: Session, brand_id: int, since: datetime, until: datetime, limit: int = 10
) -> list[tuple[Mention, int]]:
    """The brand's posts in [since, until] with the largest reach (author followers + reposts)."""
    reach = _reach().label("reach")
    rows = session.execute(
        select(Mention, reach)
        .join(MentionBrand, MentionBrand.mention_id == Mention.id)
        .where(MentionBrand.brand_id == brand_id, MentionBrand.posted_at.between(since, until))
        .order_by(reach.desc(), Mention.posted_at, Mention.id)
        .limit(limit)
    ).all()
    return [(mention, int(value or 0)) for mention, value in rows]


def post_texts(
    session: Session, brand_id: int, since: datetime, until: datetime, limit: int = TEXT_SAMPLE
) -> list[str]:
    """Texts of the brand's posts in [since, until), the most recent `limit` of them."""
    return list(
        session.scalars(
            select(Mention.text)
            .join(MentionBrand, MentionBrand.mention_id == Mention.id)
            .where(
                MentionBrand.brand_id == brand_id,
                MentionBrand.posted_at >= since,
                MentionBrand.posted_at < until,
            )
            .order_by(MentionBrand.posted_at.desc())
            .limit(limit)
        )
    )


def incident_shares(
    session: Session, incident: Incident, active_from: datetime, active_to: datetime
) -> tuple[float | None, float | None]:
    """Negative share during the incident and usually: the detector's values, else from the buckets."""
    negative_share, baseline_share = incident.negative_share, incident.baseline_share
    brand_id = incident.brand_id
    if negative_share is None:
        total, negative = brand_counts(session, brand_id, active_from, active_to)
        negative_share = share(negative, total)
    if baseline_share is None:
        run = detector_runs(session, [brand_id]).get(brand_id)
        baseline_share = run.baseline_share if run is not None else None
    if baseline_share is None:  # the day before the onset
        total, negative = brand_counts(session, brand_id, active_from - DAY, active_from)
        baseline_share = share(negative, total)
    return negative_share, baseline_share


def posts_window(incident: Incident) -> tuple[datetime, datetime]:
    """Where an incident's posts are looked for: an hour either side of its anomalous buckets."""
    return incident.started_at - HOUR, incident.last_signal_at + HOUR


def incident_drivers(
    session: Session, incident: Incident, brand: Brand, k: int = 10
) -> list[tuple[str, float]]:
    """Terms over-represented in the incident's posts against the day before (the brand's own name and
    keywords excluded: every matched post contains them)."""
    since, until = posts_window(incident)
    return top_terms(
        post_texts(session, brand.id, since, until),
        post_texts(session, brand.id, since - DAY, since),
        k=k,
        exclude=[brand.name, *brand.keywords],
    )
