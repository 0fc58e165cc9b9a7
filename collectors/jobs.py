"""One collect run of a source: fetch → ingest → cursor and health, committed together."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.ingest import IngestReport, MentionIngestor
from collectors.matching import BrandRule
from collectors.sources.base import SourceError, build_source, get_source_kind
from storage.brands import Brand
from storage.leases import claim_source, holds_lease, release
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
        secrets: Mapping[str, str] | None = None,
        owner: str = "local",
        lease_seconds: int = 120,
    ) -> None:
        """`owner`: this worker's identity in source leases; `lease_seconds`: how long a claimed source
        stays ours if we die (another worker takes it over after that)."""
        self.factory = factory
        self.ingestor = ingestor
        self.http = http
        self.max_backoff_seconds = max_backoff_seconds
        self.secrets = dict(secrets or {})  # API credentials for the kinds that need them; never logged
        self.owner = owner
        self.lease = timedelta(seconds=lease_seconds)

    def run(self, source_id: int, now: datetime, min_gap: timedelta | None = None) -> CollectOutcome:
        """Claim the source's lease, fetch outside any transaction, then ingest + cursor + release in
        one transaction that first checks the lease is still ours. Skipped when the source is not due,
        or another worker holds it, or (`min_gap`) some worker ran it less than that long ago."""
        with self.factory() as session, session.begin():
            if not claim_source(session, source_id, self.owner, now, self.lease, min_gap):
                return CollectOutcome(source_id, ok=True, skipped_run=True)
            source = session.get(Source, source_id)
            if source is None:
                return CollectOutcome(source_id, ok=True, skipped_run=True)
            kind, settings, cursor = source.kind, dict(source.settings), source.cursor
            brands = _brand_rules(session) if _needs_context(kind) else []
        try:
            built = build_source(kind, settings, http=self.http, brands=brands, secrets=self.secrets)
            result = built.fetch(cursor, now)
        except Exception as exc:  # any failure is recorded in health; the scheduler keeps going
            retry_after = exc.retry_after if isinstance(exc, SourceError) else None
            return self._record_failure(source_id, now, f"{type(exc).__name__}: {exc}", retry_after)
        try:
            with self.factory() as session, session.begin():
                source = session.get(Source, source_id, with_for_update=True, populate_existing=True)
                if source is None:
                    return CollectOutcome(source_id, ok=False, error="source deleted")
                if not holds_lease(source, self.owner):
                    # Our lease ran out and another worker took over (and may have moved the cursor
                    # on): storing now could move it back. Its run covers these posts.
                    log.warning("source %s: lease lost to %s, run discarded", source_id, source.lease_owner)
                    return CollectOutcome(source_id, ok=False, error="lease lost")
                report: IngestReport = self.ingestor.ingest(session, source_id, result.posts, now)
                source.cursor = result.cursor
                source.watermark = None if result.exhausted else result.watermark
                source.exhausted = result.exhausted
                source.last_run_at = source.last_success_at = now
                source.consecutive_failures = 0
                source.next_run_at = None
                release(source)
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

    def _record_failure(
        self, source_id: int, now: datetime, message: str, retry_after: datetime | None = None
    ) -> CollectOutcome:
        log.warning("source %s failed: %s", source_id, message)
        with self.factory() as session, session.begin():
            source = session.get(Source, source_id, with_for_update=True)
            if source is not None and holds_lease(source, self.owner):
                release(source)
                source.consecutive_failures += 1
                source.last_run_at = source.last_error_at = now
                source.last_error = message[:2000]
                # The service said when its rate limit / quota resets: wait exactly that long.
                backoff = backoff_delay(
                    source.interval_seconds, source.consecutive_failures, self.max_backoff_seconds
                )
                source.next_run_at = max(retry_after, now) if retry_after else now + backoff
        return CollectOutcome(source_id, ok=False, error=message)


def _needs_context(kind: str) -> bool:
    try:
        return get_source_kind(kind).context
    except ValueError:  # unknown kind: build_source reports it as the run's error
        return False


def _brand_rules(session: Session) -> list[BrandRule]:
    """Every brand's keywords, for kinds that build their search query from them."""
    brands = session.scalars(select(Brand).order_by(Brand.id))
    return [BrandRule(**brand.as_rule_fields()) for brand in brands]
