"""Read-only queries behind the pages: aggregated in SQL, filtered along the indexes.

Buckets are read by their primary key (brand_id, start) — always with the brand ids of the page — and
mentions through mention_brands' (brand_id, posted_at) index, so the cost follows what is shown, not
how many brands or days are stored.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

# Shared with the notification summary; re-exported for the pages.
from alerting.incident_queries import (  # noqa: F401
    TEXT_SAMPLE,
    SeriesPoint,
    brand_counts,
    bucket_series,
    counts_since,
    detector_runs,
    post_texts,
    top_posts,
)
from alerting.lifecycle import OPEN_STATUSES, Status
from alerting.report import Impact
from storage.brands import Brand
from storage.incidents import Incident, IncidentEvent
from storage.mentions import Bucket, Mention, MentionBrand
from storage.notifications import Notification
from storage.sources import Source
from storage.timebuckets import EPOCH

OPEN = [status.value for status in OPEN_STATUSES]


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


def brand_index(session: Session) -> list[tuple[int, str]]:
    return [(brand_id, name) for brand_id, name in session.execute(select(Brand.id, Brand.name))]


def brands_by_id(session: Session, brand_ids: Sequence[int]) -> dict[int, Brand]:
    if not brand_ids:
        return {}
    return {brand.id: brand for brand in session.scalars(select(Brand).where(Brand.id.in_(list(brand_ids))))}


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
    """Sources not deleted, failing ones first."""
    query = (
        select(Source)
        .where(Source.deleted_at.is_(None))
        .order_by(Source.consecutive_failures.desc(), Source.name)
        .limit(limit)
    )
    return list(session.scalars(query))


def incident_events(session: Session, incident_id: int) -> list[IncidentEvent]:
    return list(
        session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.at, IncidentEvent.id)
        )
    )


def incident_impact(session: Session, brand_id: int, since: datetime, until: datetime) -> Impact:
    """Mentions, negative ones, the peak bucket, reach and authors in buckets starting in [since, until)."""
    in_window = (Bucket.brand_id == brand_id, Bucket.start >= since, Bucket.start < until)
    total, negative, reach, authors = session.execute(
        select(
            func.coalesce(func.sum(Bucket.total), 0),
            func.coalesce(func.sum(Bucket.negative), 0),
            func.coalesce(func.sum(Bucket.reach), 0),
            func.coalesce(func.sum(Bucket.authors), 0),
        ).where(*in_window)
    ).one()
    peak = session.execute(
        select(Bucket.start, Bucket.total)
        .where(*in_window)
        .order_by(Bucket.total.desc(), Bucket.start)
        .limit(1)
    ).first()
    return Impact(
        total=int(total),
        negative=int(negative),
        peak=int(peak[1]) if peak else 0,
        peak_at=peak[0] if peak else None,
        reach=int(reach),
        authors=int(authors),
    )


@dataclass(frozen=True, slots=True)
class Spread:
    """Where the incident's posts come from: per source and per language, (label, posts, negative)."""

    sources: list[tuple[str, int, int]]
    languages: list[tuple[str, int, int]]


def incident_spread(
    session: Session, brand_id: int, since: datetime, until: datetime, limit: int = 6
) -> Spread:
    in_window = (MentionBrand.brand_id == brand_id, MentionBrand.posted_at.between(since, until))
    negative = func.sum(cast(Mention.negative, Integer))

    def grouped(label: Any, *joins: Any) -> list[tuple[str, int, int]]:
        query = select(label, func.count(), negative).select_from(MentionBrand)
        query = query.join(Mention, Mention.id == MentionBrand.mention_id)
        for join in joins:
            query = query.join(*join)
        rows = session.execute(
            query.where(*in_window).group_by(label).order_by(func.count().desc(), label).limit(limit)
        ).all()
        return [(str(name or "?"), int(count), int(neg or 0)) for name, count, neg in rows]

    return Spread(
        sources=grouped(Source.name, (Source, Source.id == Mention.source_id)),
        languages=grouped(Mention.lang),
    )


def sent_notifications(session: Session, incident_id: int) -> list[dict[str, Any]]:
    """The incident's delivered notifications, oldest first: {"at", "channel", "event"}."""
    rows = session.execute(
        select(Notification.sent_at, Notification.channel, Notification.event)
        .where(Notification.incident_id == incident_id, Notification.status == "sent")
        .order_by(Notification.sent_at, Notification.id)
    ).all()
    return [{"at": at, "channel": channel, "event": event} for at, channel, event in rows if at is not None]


def expectation_series(
    session: Session, brand_id: int, since: datetime, until: datetime, step: timedelta
) -> list[tuple[datetime, float, float]]:
    """Per `step` slot, the detector's stored expectation (expected, upper) for the brand's buckets.

    Over several buckets the expected counts add up and the upper band is expected + √Σ(upperᵢ −
    expectedᵢ)² (a band on a sum, as the metrics endpoint does). Slots the tick has not evaluated are
    left out, so the chart draws no band where the detector had no opinion."""
    seconds = int(step.total_seconds())
    slot = _slot(session, Bucket.start, seconds).label("slot")
    margin = Bucket.upper - Bucket.expected
    rows = session.execute(
        select(slot, func.sum(Bucket.expected), func.sum(margin * margin))
        .where(
            Bucket.brand_id == brand_id,
            Bucket.start >= since,
            Bucket.start < until,
            Bucket.expected.is_not(None),
            Bucket.upper.is_not(None),
        )
        .group_by(slot)
        .order_by(slot)
    ).all()
    return [
        (
            EPOCH + timedelta(seconds=int(number) * seconds),
            float(expected),
            float(expected) + math.sqrt(float(sq or 0)),
        )
        for number, expected, sq in rows
    ]
