"""Read-only queries behind the pages: aggregated in SQL, filtered along the indexes.

Buckets are read by their primary key (brand_id, start) — always with the brand ids of the page — and
mentions through mention_brands' (brand_id, posted_at) index, so the cost follows what is shown, not
how many brands or days are stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from alerting.lifecycle import OPEN_STATUSES, Status
from api.pages.charts import SeriesPoint
from storage.brands import Brand
from storage.incidents import DetectorRun, Incident, IncidentEvent
from storage.mentions import Bucket, Mention, MentionBrand
from storage.sources import Source
from storage.timebuckets import EPOCH

OPEN = [status.value for status in OPEN_STATUSES]
TEXT_SAMPLE = 3000  # posts per side fed to the term ranking


def _slot(session: Session, column: Any, seconds: int) -> Any:
    """Integer slot number (seconds since the epoch // width) of a UTC datetime column, per dialect."""
    if session.get_bind().dialect.name == "sqlite":  # stored as naive UTC text
        return cast(func.strftime("%s", column), Integer) // seconds
    return cast(func.floor(func.extract("epoch", column) / seconds), Integer)


def resampled_series(
    session: Session, brand_ids: Sequence[int], since: datetime, until: datetime, step: timedelta
) -> dict[int, list[SeriesPoint]]:
    """Per brand, total and negative mentions per `step` slot (aligned to the epoch) in [since, until)."""
    if not brand_ids:
        return {}
    seconds = int(step.total_seconds())
    slot = _slot(session, Bucket.start, seconds).label("slot")
    rows = session.execute(
        select(Bucket.brand_id, slot, func.sum(Bucket.total), func.sum(Bucket.negative))
        .where(Bucket.brand_id.in_(list(brand_ids)), Bucket.start >= since, Bucket.start < until)
        .group_by(Bucket.brand_id, slot)
        .order_by(Bucket.brand_id, slot)
    ).all()
    series: dict[int, list[SeriesPoint]] = defaultdict(list)
    for brand_id, number, total, negative in rows:
        start = EPOCH + timedelta(seconds=int(number) * seconds)
        series[brand_id].append(SeriesPoint(start, int(total or 0), int(negative or 0)))
    return dict(series)


def bucket_series(session: Session, brand_id: int, since: datetime, until: datetime) -> list[SeriesPoint]:
    rows = session.execute(
        select(Bucket.start, Bucket.total, Bucket.negative)
        .where(Bucket.brand_id == brand_id, Bucket.start >= since, Bucket.start < until)
        .order_by(Bucket.start)
    ).all()
    return [SeriesPoint(start, total, negative) for start, total, negative in rows]


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


def brand_index(session: Session) -> list[tuple[int, str]]:
    return [(brand_id, name) for brand_id, name in session.execute(select(Brand.id, Brand.name))]


def brands_by_id(session: Session, brand_ids: Sequence[int]) -> dict[int, Brand]:
    if not brand_ids:
        return {}
    return {brand.id: brand for brand in session.scalars(select(Brand).where(Brand.id.in_(list(brand_ids))))}


def detector_runs(session: Session, brand_ids: Sequence[int]) -> dict[int, DetectorRun]:
    if not brand_ids:
        return {}
    runs = session.scalars(select(DetectorRun).where(DetectorRun.brand_id.in_(list(brand_ids))))
    return {run.brand_id: run for run in runs}


def open_severities(session: Session) -> dict[int, list[str]]:
    """Per brand, the severities of its open incidents (served by ix_incidents_brand_status)."""
    severities: dict[int, list[str]] = defaultdict(list)
    for brand_id, severity in session.execute(
        select(Incident.brand_id, Incident.severity).where(Incident.status.in_(OPEN))
    ):
        severities[brand_id].append(severity)
    return dict(severities)


def open_incidents(session: Session, limit: int = 200) -> list[tuple[Incident, str, str]]:
    """Open incidents, newest first, with their brand's name and timezone."""
    rows = session.execute(
        select(Incident, Brand.name, Brand.timezone)
        .join(Brand, Brand.id == Incident.brand_id)
        .where(Incident.status.in_(OPEN))
        .order_by(Incident.started_at.desc(), Incident.id.desc())
        .limit(limit)
    ).all()
    return [(incident, name, tz) for incident, name, tz in rows]


def recent_resolved(session: Session, limit: int = 10) -> list[tuple[Incident, str, str]]:
    rows = session.execute(
        select(Incident, Brand.name, Brand.timezone)
        .join(Brand, Brand.id == Incident.brand_id)
        .where(Incident.status == Status.RESOLVED.value)
        .order_by(Incident.resolved_at.desc(), Incident.id.desc())
        .limit(limit)
    ).all()
    return [(incident, name, tz) for incident, name, tz in rows]


def brand_incidents(session: Session, brand_id: int, limit: int = 50) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.brand_id == brand_id)
            .order_by(Incident.started_at.desc(), Incident.id.desc())
            .limit(limit)
        )
    )


def sources(session: Session, limit: int = 200) -> list[Source]:
    """Sources, failing ones first."""
    return list(
        session.scalars(select(Source).order_by(Source.consecutive_failures.desc(), Source.name).limit(limit))
    )


def incident_events(session: Session, incident_id: int) -> list[IncidentEvent]:
    return list(
        session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.at, IncidentEvent.id)
        )
    )


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
