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

from alerting.actions import IncidentActions
from alerting.channels.base import Channel
from alerting.channels.mailer import EmailChannel
from alerting.channels.slack import SlackChannel, SlackWebhookChannel
from alerting.channels.webhook import SubscriptionStore, WebhookChannel
from alerting.escalation import EscalationSweep
from alerting.notify import Notifier, NotifyConfig
from alerting.notify_policy import RouteView
from alerting.outbox import DeliveryConfig, OutboxWorker
from alerting.summary import build_incident_context
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
    notifier: Notifier | None = None
    actions: IncidentActions | None = None  # acknowledge / resolve / snooze / comment (Slack buttons, API)
    outbox: OutboxWorker | None = None
    escalations: EscalationSweep | None = None


def default_routes(settings: Settings) -> tuple[RouteView, ...]:
    """The route used while no notification routes are configured (NOROSHI_SLACK_CHANNEL, _EMAIL_TO)."""
    routes = []
    slack_target = settings.slack_channel
    if slack_target is None and settings.slack_webhook_url and not settings.slack_bot_token:
        slack_target = "incoming-webhook"  # the webhook URL fixes the channel
    if slack_target:
        routes.append(RouteView("slack", slack_target, reminder_minutes=settings.slack_reminder_minutes))
    if settings.email_to:
        routes.append(
            RouteView(
                "email",
                settings.email_to,
                delay_minutes=settings.email_delay_minutes,
                min_severity=settings.email_min_severity,
            )
        )
    return tuple(routes)


def build_channels(settings: Settings, factory: sessionmaker[Session]) -> dict[str, Channel]:
    """The notification channels that settings configure, by kind (slack, email, webhook)."""
    channels: dict[str, Channel] = {}
    if settings.slack_bot_token:
        channels["slack"] = SlackChannel(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    elif settings.slack_webhook_url:
        # Incoming-webhook mode: no edits in place and no threads; each event is a new message.
        channels["slack"] = SlackWebhookChannel(settings.slack_webhook_url.get_secret_value())
    if settings.smtp_host and settings.smtp_from:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        channels["email"] = EmailChannel(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=password,
            security=settings.smtp_security,
        )
    # Webhook targets are subscription rows; with none, nothing is ever routed here.
    channels["webhook"] = WebhookChannel(httpx.Client(timeout=10.0), SubscriptionStore(factory))
    return channels


def build_services(settings: Settings, clock: Clock = system_clock) -> Services:
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    ingestor = MentionIngestor(NegativityScorer(), threshold=settings.negativity_threshold)
    http = httpx.Client(timeout=15.0, follow_redirects=True, headers={"User-Agent": "Noroshi/0.1"})
    runner = SourceRunner(
        factory,
        ingestor,
        http=http,
        max_backoff_seconds=settings.collect_max_backoff_seconds,
        secrets=settings.collector_secrets(),
    )
    auto_resolve = timedelta(minutes=settings.auto_resolve_minutes) if settings.auto_resolve_minutes else None
    notifier = Notifier(build_incident_context, NotifyConfig(settings.public_url, default_routes(settings)))
    ticker = DetectionTicker(factory, auto_resolve=auto_resolve, notifier=notifier)
    actions = IncidentActions(notifier)
    delivery = DeliveryConfig(
        max_attempts=settings.delivery_max_attempts,
        backoff_max_seconds=settings.delivery_backoff_max_seconds,
        lease_seconds=settings.delivery_lease_seconds,
    )
    outbox = OutboxWorker(factory, build_channels(settings, factory), clock, delivery)
    return Services(
        settings,
        engine,
        factory,
        ingestor,
        runner,
        ticker,
        clock,
        notifier=notifier,
        actions=actions,
        outbox=outbox,
        escalations=EscalationSweep(factory, actions),
    )


class JobScheduler:
    """APScheduler driving the clock: one collect job per source, the detection tick, a source sync,
    the outbox delivery loop and the escalation sweep (steps, reminders, snooze ends, campaign summaries)."""

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
        settings = self.services.settings
        self.scheduler.add_job(
            self.deliver,
            IntervalTrigger(seconds=settings.delivery_interval_seconds),
            id="deliver",
            next_run_time=now + timedelta(seconds=2),
        )
        self.scheduler.add_job(
            self.escalate,
            IntervalTrigger(seconds=settings.escalation_interval_seconds),
            id="escalate",
            next_run_time=now + timedelta(seconds=3),
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
        if summary.notifications:
            self._deliver_now()

    def _deliver_now(self) -> None:
        """Do not wait for the next delivery interval: the bucket just closed, people should know."""
        job = self.scheduler.get_job("deliver")
        if job is not None:
            job.modify(next_run_time=self.services.clock())

    def deliver(self) -> None:
        if self.services.outbox is None:
            return
        report = self.services.outbox.run_once()
        if report.handled:
            log.info("delivery: sent %s, retrying %s, dead %s", report.sent, report.retried, report.dead)

    def escalate(self) -> None:
        if self.services.escalations is None:
            return
        report = self.services.escalations.run(self.services.clock())
        if report.enqueued or report.summaries:
            log.info(
                "escalation: %s notifications, %s summaries", len(report.enqueued), len(report.summaries)
            )
            self._deliver_now()
