"""The detection tick: for each brand, run the detector over buckets that closed since the last tick.

Brands are ticked in batches: one transaction claims a batch's brand rows, reads their detector runs,
open incidents and bucket history with one query each, runs the detector brand by brand and writes
the expectations in one statement. The brands in the worker's history cache come first, in batches
of `BATCH_BRANDS`; the others follow in smaller batches (`UNCACHED_BATCH_BRANDS`). A batch that fails
is rolled back and redone one brand per transaction, so one brand's failure still does not stop the
others.

The bucket history comes from the ticker's `HistoryCache` (alerting/history_cache.py): a brand it
has read recently reads only its last hours from the database. `history_cache=None` reads every
brand's whole history each tick.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerting.expectations import expectation_row, store_expectations
from alerting.history_cache import HistoryCache, HistoryRead, HistoryWant
from alerting.incidents import (
    apply_signal,
    dedup_key,
    mark_active,
    open_incident_for,
    quiet_incidents,
    resolve_incident,
)
from alerting.lifecycle import OPEN_STATUSES
from alerting.notify import Notifier
from alerting.tick_points import collector_paused, detector_arrays, epoch_of, window
from detectors import DetectorConfig, DetectorState, detect_tick_arrays
from detectors.types import KINDS
from storage.brands import Brand
from storage.bucket_series import EMPTY, BucketSeries, load_bucket_series
from storage.incidents import DetectorRun, Incident
from storage.mentions import Bucket
from storage.sources import Source
from storage.timebuckets import bucket_start

log = logging.getLogger(__name__)
MAX_CATCH_UP = timedelta(days=2)
# Brands per transaction: large enough that per-query costs vanish (a live tick is one bucket per
# brand), small enough that a batch's history (28 days × 50 brands ≈ 400k buckets) stays a few
# tens of MB, that several workers still split the brands evenly, and that a flaring brand's
# notifications are committed within a second or so.
BATCH_BRANDS = 50
# Brands per transaction among those this worker has not cached. Having ticked its own brands, a
# worker walks on into brands another worker has cached but may not have reached yet: each one it
# claims is read in full here and a lost cache hit there, and it claims them a batch at a time. With
# 3 workers, batches of 10 instead of 50 took the extra full reads from 8-12 a tick on average (a 50-brand
# batch every few ticks) to none, with no cold-tick cost measurable (benchmarks/README.md,
# "Claiming uncached brands 10 at a time"); where nothing is cached (a restart) it is 5x the
# transactions.
UNCACHED_BATCH_BRANDS = 10


@dataclass(slots=True)
class TickSummary:
    brands: int = 0
    buckets_evaluated: int = 0
    opened: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)  # idempotency keys enqueued
    skipped: int = 0  # brands another worker was ticking at the time

    def merge(self, other: TickSummary) -> None:
        self.brands += other.brands
        self.buckets_evaluated += other.buckets_evaluated
        self.opened += other.opened
        self.escalated += other.escalated
        self.resolved += other.resolved
        self.notifications += other.notifications
        self.skipped += other.skipped


def _chunks(brand_ids: list[int], size: int) -> list[list[int]]:
    return [brand_ids[i : i + size] for i in range(0, len(brand_ids), size)]


def claim_brands(session: Session, brand_ids: Sequence[int]) -> list[Brand]:
    """Lock the rows of the brands no other worker is ticking, for this transaction; returns them.

    Several workers tick at once: each brand is evaluated inside a transaction that holds its row
    lock, so two workers never evaluate the same bucket or open the same incident; the other worker
    skips it (SKIP LOCKED) instead of waiting. The lock dies with the transaction, so a killed worker
    frees its brands at once. FOR NO KEY UPDATE: inserts of buckets and mentions referencing the brand
    (FOR KEY SHARE) neither block nor are blocked. SQLite has one writer at a time and no row locks."""
    query = select(Brand).where(Brand.id.in_(list(brand_ids))).order_by(Brand.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, key_share=True)
    return list(session.scalars(query))


def claim_brand(session: Session, brand_id: int) -> bool:
    """Lock one brand's row (see `claim_brands`), or report that another worker holds it."""
    return bool(claim_brands(session, [brand_id]))


def data_watermark(session: Session, now: datetime) -> datetime:
    """Everything before this time has been delivered by every source still catching up."""
    behind = session.scalar(
        select(func.min(Source.watermark)).where(Source.enabled.is_(True), Source.watermark.is_not(None))
    )
    return min(now, behind) if behind is not None else now


@dataclass(slots=True)
class BrandPlan:
    """What one brand's tick evaluates: its buckets to do, from which detector run."""

    brand: Brand
    run: DetectorRun | None
    todo: list[datetime]
    config: DetectorConfig

    @property
    def history(self) -> timedelta:
        return timedelta(days=self.config.history_days)

    @property
    def since(self) -> datetime:
        return self.todo[0] - self.history

    @property
    def through(self) -> datetime | None:
        """The last bucket the brand's detector run evaluated (None: none yet)."""
        return self.run.evaluated_through if self.run is not None else None


def _buckets_to_evaluate(
    brand: Brand, run: DetectorRun | None, first_seen: datetime | None, last_closed: datetime
) -> list[datetime]:
    width = timedelta(minutes=brand.bucket_minutes)
    if run is not None and run.evaluated_through is not None:
        first = run.evaluated_through + width
    elif first_seen is None:
        return []
    else:
        first = first_seen
    first = max(first, last_closed - MAX_CATCH_UP)
    count = int((last_closed - first) / width) + 1
    return [first + i * width for i in range(max(count, 0))]


def _first_buckets(session: Session, brand_ids: list[int]) -> dict[int, datetime]:
    """Each brand's first stored bucket (for brands the detector has not evaluated yet)."""
    if not brand_ids:
        return {}
    rows = session.execute(
        select(Bucket.brand_id, func.min(Bucket.start))
        .where(Bucket.brand_id.in_(brand_ids))
        .group_by(Bucket.brand_id)
    ).all()
    return {brand_id: first for brand_id, first in rows}


def _plan(session: Session, brands: list[Brand], now: datetime) -> list[BrandPlan]:
    watermark = data_watermark(session, now)
    ids = [brand.id for brand in brands]
    runs = {
        run.brand_id: run for run in session.scalars(select(DetectorRun).where(DetectorRun.brand_id.in_(ids)))
    }
    fresh = [b for b in ids if runs.get(b) is None or runs[b].evaluated_through is None]
    first_seen = _first_buckets(session, fresh)
    plans = []
    for brand in brands:
        # A bucket is closed when its end has passed for the clock and for every source catching up.
        width = timedelta(minutes=brand.bucket_minutes)
        last_closed = bucket_start(watermark, brand.bucket_minutes) - width
        todo = _buckets_to_evaluate(brand, runs.get(brand.id), first_seen.get(brand.id), last_closed)
        config = DetectorConfig(
            bucket_minutes=brand.bucket_minutes,
            timezone=brand.timezone,
            sensitivity=brand.sensitivity,
            holidays=brand.holidays,
        )
        plans.append(BrandPlan(brand, runs.get(brand.id), todo, config))
    return plans


def _open_incident_keys(session: Session, brand_ids: list[int]) -> set[str]:
    """Dedup keys of the brands' open incidents: a brand without one needs no incident lookups."""
    keys = [dedup_key(brand_id, kind) for brand_id in brand_ids for kind in KINDS]
    query = select(Incident.dedup_key).where(
        Incident.dedup_key.in_(keys), Incident.status.in_(list(OPEN_STATUSES))
    )
    return set(session.scalars(query))


class DetectionTicker:
    """Runs the detectors for every brand over the buckets that closed since the last tick."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        auto_resolve: timedelta | None = None,
        notifier: Notifier | None = None,
        batch_brands: int = BATCH_BRANDS,
        uncached_batch_brands: int = UNCACHED_BATCH_BRANDS,
        history_cache: HistoryCache | Literal["default"] | None = "default",
    ) -> None:
        """`auto_resolve`: resolve after this long without an anomalous bucket. None follows the
        detector: an incident resolves when the detector's event ends (its quiet period, e.g. 12 h).
        `notifier`: writes the outbox rows for what changed, in the same transaction (None: record only).
        `batch_brands`: brands per transaction; `uncached_batch_brands`: for the brands the history
        cache does not hold (without a cache, every batch has `batch_brands`).
        `history_cache`: keeps the brands' bucket history between ticks (default: a new
        `HistoryCache()`); None reads the whole history from the database every tick."""
        self.factory = factory
        self.auto_resolve = auto_resolve
        self.notifier = notifier
        self.batch_brands = batch_brands
        self.uncached_batch_brands = uncached_batch_brands
        self.history_cache = HistoryCache() if history_cache == "default" else history_cache

    def tick(self, now: datetime) -> TickSummary:
        summary = TickSummary()
        with self.factory() as session:
            brand_ids = list(session.scalars(select(Brand.id).order_by(Brand.id)))
        for batch in self._batches(brand_ids):
            if not self._tick_batch(batch, now, summary) and len(batch) > 1:
                for brand_id in batch:  # find the failing brand; the others still get their tick
                    self._tick_batch([brand_id], now, summary)
        return summary

    def _batches(self, brand_ids: list[int]) -> list[list[int]]:
        """The brands this worker has cached first, in batches of `batch_brands`; then the others in
        batches of `uncached_batch_brands` (see `UNCACHED_BATCH_BRANDS`)."""
        if self.history_cache is None:
            return _chunks(brand_ids, self.batch_brands)
        cached, others = self.history_cache.split(brand_ids)
        return _chunks(cached, self.batch_brands) + _chunks(others, self.uncached_batch_brands)

    def _tick_batch(self, brand_ids: list[int], now: datetime, summary: TickSummary) -> bool:
        """One transaction for these brands; the summary only counts what was committed."""
        part = TickSummary()
        try:
            with self.factory() as session, session.begin():
                brands = claim_brands(session, brand_ids)
                part.skipped = len(brand_ids) - len(brands)
                part.brands = len(brands)
                read = self._tick_brands(session, brands, now, part)
        except Exception:
            log.exception("detection tick failed for brand(s) %s", brand_ids)
            return False
        if read is not None and self.history_cache is not None:  # only what a committed batch read
            self.history_cache.keep(read)
        summary.merge(part)
        return True

    def _tick_brands(
        self, session: Session, brands: list[Brand], now: datetime, summary: TickSummary
    ) -> HistoryRead | None:
        """Evaluate the brands; returns what was read through the history cache (to keep once the
        batch has committed), if there is one."""
        plans = [plan for plan in _plan(session, brands, now) if plan.todo] if brands else []
        if not plans:
            return None
        ids = [plan.brand.id for plan in plans]
        open_keys = _open_incident_keys(session, ids)
        series, read = self._read_history(session, plans, now)
        expectations: list[dict[str, Any]] = []
        for plan in plans:
            with collector_paused():
                brand_series = series.get(plan.brand.id, EMPTY)
                self._tick_brand(session, plan, brand_series, open_keys, now, summary, expectations)
            if read is not None:
                read.evaluated(plan.brand.id, plan.todo)
        store_expectations(session, expectations)
        return read

    def _read_history(
        self, session: Session, plans: list[BrandPlan], now: datetime
    ) -> tuple[dict[int, BucketSeries], HistoryRead | None]:
        """The batch's bucket history: through the cache, or all of it from the database."""
        if self.history_cache is None:
            since, until = min(plan.since for plan in plans), max(plan.todo[-1] for plan in plans)
            return load_bucket_series(session, [plan.brand.id for plan in plans], since, until), None
        wants = {plan.brand.id: HistoryWant(plan.since, plan.todo[-1], plan.through) for plan in plans}
        read = self.history_cache.read(session, wants, now)
        return read.series, read

    def _tick_brand(
        self,
        session: Session,
        plan: BrandPlan,
        series: BucketSeries,
        open_keys: set[str],
        now: datetime,
        summary: TickSummary,
        expectations: list[dict[str, Any]],
    ) -> None:
        brand_id, run, todo, config, history = plan.brand.id, plan.run, plan.todo, plan.config, plan.history
        state = DetectorState.from_json(run.state if run else None)
        arrays = detector_arrays(series.between(epoch_of(plan.since), epoch_of(todo[-1])))
        result = None
        before = (len(summary.opened), len(summary.escalated), len(summary.resolved))
        for at in todo:
            result = detect_tick_arrays(window(arrays, at, history), config, state)
            state = result.state
            expectations.append(expectation_row(brand_id, at, result))
            summary.buckets_evaluated += 1
            for signal in result.signals:
                incident, what = apply_signal(session, brand_id, signal, now)
                open_keys.add(dedup_key(brand_id, signal.kind))
                {"opened": summary.opened, "escalated": summary.escalated}.get(what, []).append(incident.id)
            for kind, active in result.active.items():
                if active and dedup_key(brand_id, kind) in open_keys:
                    mark_active(session, brand_id, kind, at)
            state = self._resolve_finished(session, brand_id, at, state, now, summary, open_keys)
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
        width = timedelta(minutes=plan.brand.bucket_minutes)
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
        open_keys: set[str],
    ) -> DetectorState:
        """Resolve incidents whose event is over, and keep the detector's events in step with them.
        `open_keys` says which kinds may have an open incident (none: nothing to look up)."""
        for kind in KINDS:
            key = dedup_key(brand_id, kind)
            if key not in open_keys or state.is_open(kind):
                continue
            incident = open_incident_for(session, brand_id, kind)
            if incident is None:
                open_keys.discard(key)
                continue
            resolve_incident(session, incident, now, note="auto-resolved: the detector's quiet period ended")
            summary.resolved.append(incident.id)
        if self.auto_resolve is not None and any(dedup_key(brand_id, kind) in open_keys for kind in KINDS):
            minutes = int(self.auto_resolve.total_seconds() // 60)
            for incident in quiet_incidents(session, brand_id, at, self.auto_resolve):
                resolve_incident(session, incident, now, note=f"auto-resolved: quiet for {minutes} minutes")
                state = state.end_event(incident.kind)
                summary.resolved.append(incident.id)
        return state
