"""Jobs that keep the store tidy and people informed: retention pruning, idempotency-record expiry and the
daily digest e-mail. Each is safe to run on every worker at once (batch deletes, a per-day send claim)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from alerting.channels.base import Channel
from alerting.channels.mailer import EmailChannel
from alerting.digest_mail import DigestJob, recipient_list
from noroshi.settings import Settings
from storage.engine import transaction
from storage.idempotency import prune_idempotency_records
from storage.retention import prune_mentions

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass
class Housekeeping:
    factory: sessionmaker[Session]
    clock: Clock
    retention: timedelta | None  # None: keep mentions forever
    retention_batch: int
    digest: DigestJob | None  # None: no e-mail channel or no recipients

    def prune(self) -> None:
        now = self.clock()
        with transaction(self.factory) as session:
            expired = prune_idempotency_records(session, now)
        if expired:
            log.info("housekeeping: %s idempotency records expired", expired)
        if self.retention is None:
            return
        report = prune_mentions(self.factory, now, self.retention, self.retention_batch)
        if report.mentions:
            log.info("retention: %s mentions older than %s pruned", report.mentions, report.cutoff)

    def send_digest(self) -> None:
        if self.digest is None:
            return
        sent = self.digest.run(self.clock())
        if sent.outcome not in ("not_yet", "already_sent"):
            log.info("daily digest for %s: %s", sent.day, sent.outcome)


def build_housekeeping(
    settings: Settings, factory: sessionmaker[Session], clock: Clock, channels: Mapping[str, Channel]
) -> Housekeeping:
    mailer = channels.get("email")
    recipients = recipient_list(settings.digest_to, settings.email_to)
    digest = None
    if isinstance(mailer, EmailChannel) and recipients:
        digest = DigestJob(
            factory,
            mailer,
            recipients,
            tz=settings.digest_timezone,
            hour=settings.digest_hour,
            public_url=settings.public_url,
        )
    retention = timedelta(days=settings.retention_days) if settings.retention_days else None
    return Housekeeping(factory, clock, retention, settings.retention_batch, digest)
