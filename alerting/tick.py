"""The detection tick: for each brand, run the detector over buckets that closed since the last tick."""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerting.incidents import apply_signal, mark_active, open_incident_for, quiet_incidents, resolve_incident
from alerting.notify import Notifier
from detectors import BucketPoint, DetectorConfig, DetectorState, detect_tick
from detectors.types import KINDS
from storage.brands import Brand
from storage.incidents import DetectorRun, Incident
from storage.mentions import Bucket
from storage.sources import Source
from storage.timebuckets import bucket_start

log = logging.getLogger(__name__)
MAX_CATCH_UP = timedelta(days=2)


@dataclass(slots=True)
class TickSummary:
    brands: int = 0
    buckets_evaluated: int = 0
    opened: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)  # idempotency keys enqueued


def data_watermark(session: Session, now: datetime) -> datetime:
    """Everything before this time has been delivered by every source still catching up."""
    behind = session.scalar(
        select(func.min(Source.watermark)).where(Source.enabled.is_(True), Source.watermark.is_not(None))
    )
    return min(now, behind) if behind is not None else now


def _load_points(session: Session, brand_id: int, since: datetime, until: datetime) -> list[BucketPoint]:
    rows = session.execute(
        select(Bucket.start, Bucket.total, Bucket.negative, Bucket.authors, Bucket.reach)
        .where(Bucket.brand_id == brand_id, Bucket.start >= since, Bucket.start <= until)
        .order_by(Bucket.start)
    ).all()
    return [
        BucketPoint(start, total, negative, authors, reach) for start, total, negative, authors, reach in rows
    ]


def _buckets_to_evaluate(
    session: Session, brand: Brand, run: DetectorRun | None, last_closed: datetime
) -> list[datetime]:
    width = timedelta(minutes=brand.bucket_minutes)
    if run is not None and run.evaluated_through is not None:
        first = run.evaluated_through + width
    else:
        first_seen = session.scalar(select(func.min(Bucket.start)).where(Bucket.brand_id == brand.id))
        if first_seen is None:
            return []
        first = first_seen
    first = max(first, last_closed - MAX_CATCH_UP)
    count = int((last_closed - first) / width) + 1
    return [first + i * width for i in range(max(count, 0))]


def _window(
    points: Sequence[BucketPoint], starts: Sequence[datetime], end: datetime, history: timedelta
) -> list[BucketPoint]:
    """The trailing history ending exactly at `end` (a zero bucket is added if nobody posted then)."""
    window = list(points[bisect_right(starts, end - history) : bisect_right(starts, end)])
    if not window or window[-1].start != end:
        window.append(BucketPoint(end, 0))
    return window


class DetectionTicker:
    """Runs the detectors for every brand over the buckets that closed since the last tick."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        auto_resolve: timedelta | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        """`auto_resolve`: resolve after this long without an anomalous bucket. None follows the
        detector: an incident resolves when the detector's event ends (its quiet period, e.g. 12 h).
        `notifier`: writes the outbox rows for what changed, in the same transaction (None: record only)."""
        self.factory = factory
        self.auto_resolve = auto_resolve
        self.notifier = notifier

    def tick(self, now: datetime) -> TickSummary:
        summary = TickSummary()
        with self.factory() as session:
            brand_ids = list(session.scalars(select(Brand.id).order_by(Brand.id)))
        for brand_id in brand_ids:
            try:
                with self.factory() as session, session.begin():
                    self._tick_brand(session, brand_id, now, summary)
            except Exception:  # one brand's failure must not stop the others
                log.exception("detection tick failed for brand %s", brand_id)
        return summary

    def _tick_brand(self, session: Session, brand_id: int, now: datetime, summary: TickSummary) -> None:
        brand = session.get(Brand, brand_id)
        if brand is None:
            return
        summary.brands += 1
        width = timedelta(minutes=brand.bucket_minutes)
        # A bucket is closed when its end has passed for the clock and for every source catching up.
        last_closed = bucket_start(data_watermark(session, now), brand.bucket_minutes) - width
        run = session.get(DetectorRun, brand_id)
        todo = _buckets_to_evaluate(session, brand, run, last_closed)
        if not todo:
            return
        config = DetectorConfig(
            bucket_minutes=brand.bucket_minutes, timezone=brand.timezone, sensitivity=brand.sensitivity
        )
        history = timedelta(days=config.history_days)
        points = _load_points(session, brand_id, todo[0] - history, todo[-1])
        starts = [p.start for p in points]
        state = DetectorState.from_json(run.state if run else None)
        result = None
        before = (len(summary.opened), len(summary.escalated), len(summary.resolved))
        for at in todo:
            result = detect_tick(_window(points, starts, at, history), config, state)
            state = result.state
            summary.buckets_evaluated += 1
            for signal in result.signals:
                incident, what = apply_signal(session, brand_id, signal, now)
                {"opened": summary.opened, "escalated": summary.escalated}.get(what, []).append(incident.id)
            for kind, active in result.active.items():
                if active:
                    mark_active(session, brand_id, kind, at)
            state = self._resolve_finished(session, brand_id, at, state, now, summary)
        if run is None:
            run = DetectorRun(brand_id=brand_id, updated_at=now)
            session.add(run)
        run.state = state.to_json()
        run.evaluated_through = todo[-1]
        if result is not None:
            run.expected, run.upper, run.baseline_share = result.expected, result.upper, result.baseline_share
        run.updated_at = now
        touched = [
            *summary.opened[before[0] :],
            *summary.escalated[before[1] :],
            *summary.resolved[before[2] :],
        ]
        self._notify(session, touched, todo[-1] + width, now, summary)

    def _notify(
        self, session: Session, touched: list[int], closed_at: datetime, now: datetime, summary: TickSummary
    ) -> None:
        """Plan notifications once per changed incident, from its state after the whole catch-up: an
        incident that opened and ended within replayed (backfilled) buckets was never live, so it is
        recorded but nobody is paged; several escalations in one catch-up make one page."""
        if self.notifier is None:
            return
        for incident_id in dict.fromkeys(touched):
            incident = session.get(Incident, incident_id)
            if incident is not None:
                keys = self.notifier.plan(session, incident, now, bucket_closed_at=closed_at)
                summary.notifications += keys

    def _resolve_finished(
        self,
        session: Session,
        brand_id: int,
        at: datetime,
        state: DetectorState,
        now: datetime,
        summary: TickSummary,
    ) -> DetectorState:
        """Resolve incidents whose event is over, and keep the detector's events in step with them."""
        for kind in KINDS:
            incident = open_incident_for(session, brand_id, kind)
            if incident is not None and not state.is_open(kind):
                resolve_incident(
                    session, incident, now, note="auto-resolved: the detector's quiet period ended"
                )
                summary.resolved.append(incident.id)
        if self.auto_resolve is not None:
            minutes = int(self.auto_resolve.total_seconds() // 60)
            for incident in quiet_incidents(session, brand_id, at, self.auto_resolve):
                resolve_incident(session, incident, now, note=f"auto-resolved: quiet for {minutes} minutes")
                state = state.end_event(incident.kind)
                summary.resolved.append(incident.id)
        return state
