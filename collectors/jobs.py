"""One collect run of a source: fetch → ingest → cursor and health, committed together."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from collectors.ingest import IngestReport, MentionIngestor
from collectors.sources.base import build_source
from storage.sources import Source

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CollectOutcome:
    source_id: int
    ok: bool
    fetched: int = 0
    stored: int = 0
    skipped: int = 0
    error: str | None = None
    skipped_run: bool = False  # still backing off, or disabled


def backoff_delay(interval_seconds: int, failures: int, ceiling_seconds: int) -> timedelta:
    """Exponential backoff from the source's own interval, capped."""
    return timedelta(seconds=min(ceiling_seconds, interval_seconds * 2 ** max(failures - 1, 0)))


class SourceRunner:
    def __init__(
        self,
        factory: sessionmaker[Session],
        ingestor: MentionIngestor,
        http: httpx.Client | None = None,
        max_backoff_seconds: int = 3600,
    ) -> None:
        self.factory = factory
        self.ingestor = ingestor
        self.http = http
        self.max_backoff_seconds = max_backoff_seconds

    def run(self, source_id: int, now: datetime) -> CollectOutcome:
        with self.factory() as session:
            source = session.get(Source, source_id)
            if source is None or not source.enabled or source.exhausted:
                return CollectOutcome(source_id, ok=True, skipped_run=True)
            if source.next_run_at is not None and source.next_run_at > now:
                return CollectOutcome(source_id, ok=True, skipped_run=True)
            kind, settings, cursor = source.kind, dict(source.settings), source.cursor
        try:
            result = build_source(kind, settings, http=self.http).fetch(cursor, now)
        except Exception as exc:  # any failure is recorded in health; the scheduler keeps going
            return self._record_failure(source_id, now, f"{type(exc).__name__}: {exc}")
        try:
            with self.factory() as session, session.begin():
                source = session.get(Source, source_id, with_for_update=True)
                if source is None:
                    return CollectOutcome(source_id, ok=False, error="source deleted")
                report: IngestReport = self.ingestor.ingest(session, source_id, result.posts, now)
                source.cursor = result.cursor
                source.watermark = None if result.exhausted else result.watermark
                source.exhausted = result.exhausted
                source.last_run_at = source.last_success_at = now
                source.consecutive_failures = 0
                source.next_run_at = None
                if result.skipped:
                    source.last_error = f"{len(result.skipped)} item(s) skipped, e.g. {result.skipped[0][1]}"
                    source.last_error_at = now
        except Exception as exc:
            log.exception("ingest failed for source %s", source_id)
            return self._record_failure(source_id, now, f"ingest: {type(exc).__name__}: {exc}")
        for ref, reason in result.skipped[:20]:
            log.warning("source %s skipped item %s: %s", source_id, ref, reason)
        return CollectOutcome(
            source_id, ok=True, fetched=len(result.posts), stored=report.stored, skipped=len(result.skipped)
        )

    def _record_failure(self, source_id: int, now: datetime, message: str) -> CollectOutcome:
        log.warning("source %s failed: %s", source_id, message)
        with self.factory() as session, session.begin():
            source = session.get(Source, source_id)
            if source is not None:
                source.consecutive_failures += 1
                source.last_run_at = source.last_error_at = now
                source.last_error = message[:2000]
                source.next_run_at = now + backoff_delay(
                    source.interval_seconds, source.consecutive_failures, self.max_backoff_seconds
                )
        return CollectOutcome(source_id, ok=False, error=message)
