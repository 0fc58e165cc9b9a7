"""Wire the parts together from settings: database, scorer, ingest, collectors, detection, scheduler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from alerting.tick import DetectionTicker
from collectors.ingest import MentionIngestor
from collectors.jobs import SourceRunner
from collectors.negativity import NegativityScorer
from noroshi.settings import Settings
from storage.engine import make_engine, make_session_factory
from storage.sources import Source

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    ingestor: MentionIngestor
    runner: SourceRunner
    ticker: DetectionTicker
    clock: Clock


def build_services(settings: Settings, clock: Clock = system_clock) -> Services:
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    ingestor = MentionIngestor(NegativityScorer(), threshold=settings.negativity_threshold)
    http = httpx.Client(timeout=15.0, follow_redirects=True, headers={"User-Agent": "Noroshi/0.1"})
    runner = SourceRunner(
        factory, ingestor, http=http, max_backoff_seconds=settings.collect_max_backoff_seconds
    )
    auto_resolve = timedelta(minutes=settings.auto_resolve_minutes) if settings.auto_resolve_minutes else None
    ticker = DetectionTicker(factory, auto_resolve=auto_resolve)
    return Services(settings, engine, factory, ingestor, runner, ticker, clock)


class JobScheduler:
    """APScheduler driving the clock: one collect job per source, the detection tick, a source sync."""

    SYNC_SECONDS = 15

    def __init__(self, services: Services, detect_interval_seconds: int) -> None:
        self.services = services
        self.detect_interval_seconds = detect_interval_seconds
        self.scheduler = BackgroundScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
        )

    def start(self) -> None:
        now = self.services.clock()
        self.scheduler.add_job(
            self.sync_sources,
            IntervalTrigger(seconds=self.SYNC_SECONDS),
            id="sync-sources",
            next_run_time=now,
        )
        self.scheduler.add_job(
            self.detect,
            IntervalTrigger(seconds=self.detect_interval_seconds),
            id="detect",
            next_run_time=now + timedelta(seconds=1),
        )
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def alive(self) -> bool:
        return bool(self.scheduler.running)

    def sync_sources(self) -> None:
        """Make the collect jobs match the sources table (sources can be added through the API)."""
        with self.services.factory() as session:
            sources = session.execute(
                select(Source.id, Source.interval_seconds).where(
                    Source.enabled.is_(True), Source.exhausted.is_(False), Source.kind != "push"
                )
            ).all()
        wanted = {f"collect:{sid}": interval for sid, interval in sources}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("collect:") and job.id not in wanted:
                job.remove()
        for job_id, interval in wanted.items():
            existing = self.scheduler.get_job(job_id)
            if existing is None:
                source_id = int(job_id.split(":")[1])
                self.scheduler.add_job(
                    self.collect,
                    IntervalTrigger(seconds=interval),
                    args=[source_id],
                    id=job_id,
                    next_run_time=self.services.clock(),
                )

    def collect(self, source_id: int) -> None:
        outcome = self.services.runner.run(source_id, self.services.clock())
        if outcome.fetched:
            log.info("source %s: %s fetched, %s stored", source_id, outcome.fetched, outcome.stored)

    def detect(self) -> None:
        summary = self.services.ticker.tick(self.services.clock())
        if summary.opened or summary.escalated or summary.resolved:
            log.info(
                "detection: opened %s escalated %s resolved %s",
                summary.opened,
                summary.escalated,
                summary.resolved,
            )
