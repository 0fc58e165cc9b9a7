"""Wire the parts together from settings: database, scorer, ingest, collectors, detection, scheduler."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
from alerting.history_cache import HistoryCache
from alerting.notify import Notifier, NotifyConfig
from alerting.notify_policy import RouteView
from alerting.outbox import DeliveryConfig, OutboxWorker
from alerting.page_links import signing_context_builder
from alerting.summary import build_incident_context
from alerting.tick import DetectionTicker
from collectors.ingest import MentionIngestor
from collectors.jobs import SourceRunner
from collectors.negativity import NegativityScorer
from noroshi.housekeeping import Housekeeping, build_housekeeping
from noroshi.settings import Settings
from storage.engine import make_engine, make_session_factory, transaction
from storage.leases import forget_worker, heartbeat, worker_identity
from storage.sources import Source
from storage.telemetry import Telemetry

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
    housekeeping: Housekeeping | None = None  # retention, idempotency expiry, daily digest
    telemetry: Telemetry = field(default_factory=Telemetry)  # this process's counters for /metrics
    worker_name: str = "local"  # this process's identity in source leases and the workers table


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
    worker_name = worker_identity()
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    telemetry = Telemetry()
    ingestor = MentionIngestor(
        NegativityScorer(), threshold=settings.negativity_threshold, telemetry=telemetry
    )
    http = httpx.Client(timeout=15.0, follow_redirects=True, headers={"User-Agent": "Noroshi/0.1"})
    runner = SourceRunner(
        factory,
        ingestor,
        http=http,
        max_backoff_seconds=settings.collect_max_backoff_seconds,
        secrets=settings.collector_secrets(),
        owner=worker_name,
        lease_seconds=settings.lease_seconds,
    )
    auto_resolve = timedelta(minutes=settings.auto_resolve_minutes) if settings.auto_resolve_minutes else None
    build_context = build_incident_context
    if settings.secret_key is not None:  # page links in notifications open the incident's pages
        key, lifetime = settings.secret_key.get_secret_value(), timedelta(days=settings.page_link_days)
        build_context = signing_context_builder(build_incident_context, key, lifetime)
    notifier = Notifier(build_context, NotifyConfig(settings.public_url, default_routes(settings)))
    history = HistoryCache(settings.tick_cache_brands) if settings.tick_cache_brands else None
    ticker = DetectionTicker(factory, auto_resolve=auto_resolve, notifier=notifier, history_cache=history)
    actions = IncidentActions(notifier)
    delivery = DeliveryConfig(
        max_attempts=settings.delivery_max_attempts,
        backoff_max_seconds=settings.delivery_backoff_max_seconds,
        lease_seconds=settings.delivery_lease_seconds,
    )
    channels = build_channels(settings, factory)
    outbox = OutboxWorker(factory, channels, clock, delivery, telemetry=telemetry)
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
        housekeeping=build_housekeeping(settings, factory, clock, channels),
        telemetry=telemetry,
        worker_name=worker_name,
    )


class JobScheduler:
    """APScheduler driving the clock: one collect job per source, the detection tick, a source sync,
    the outbox delivery loop and the escalation sweep (steps, reminders, snooze ends, campaign summaries)."""

    SYNC_SECONDS = 15
    RUN_GAP = 0.5  # of a source's interval: a source run by any worker this recently is not run again

    def __init__(self, services: Services, detect_interval_seconds: int) -> None:
        self.services = services
        self.detect_interval_seconds = detect_interval_seconds
        self.intervals: dict[int, int] = {}  # source id → collect interval, for the gap between runs
        self.scheduler = BackgroundScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
        )
        # APScheduler's shutdown(wait=True) holds the job-store lock while it waits for running jobs, so
        # a sync job touching the job store at that moment would deadlock: the two take turns here.
        self._sync_lock = threading.Lock()
        self._stopping = False

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
        # Hourly pruning stays cheap (nothing to delete most hours) and survives restarts; the digest job
        # is a no-op before its local hour and once the day's digest was sent.
        self.scheduler.add_job(
            self.prune, IntervalTrigger(hours=1), id="prune", next_run_time=now + timedelta(minutes=1)
        )
        self.scheduler.add_job(
            self.send_digest,
            IntervalTrigger(minutes=5),
            id="digest",
            next_run_time=now + timedelta(seconds=30),
        )
        self.scheduler.start()

    def shutdown(self) -> None:
        with self._sync_lock:
            self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        try:
            with transaction(self.services.factory) as session:
                forget_worker(session, self.services.worker_name)
        except Exception:  # the heartbeat row then simply ages out
            log.warning("could not remove the worker row of %s", self.services.worker_name)

    def alive(self) -> bool:
        return bool(self.scheduler.running)

    def sync_sources(self) -> None:
        """Make the collect jobs match the sources table (sources can be added through the API), and
        refresh this worker's heartbeat."""
        with transaction(self.services.factory) as session:
            heartbeat(session, self.services.worker_name, self.services.clock())
            sources = session.execute(
                select(Source.id, Source.interval_seconds).where(
                    Source.enabled.is_(True), Source.exhausted.is_(False), Source.kind != "push"
                )
            ).all()
        self.intervals = {sid: interval for sid, interval in sources}
        wanted = {f"collect:{sid}": interval for sid, interval in sources}
        with self._sync_lock:
            if not self._stopping:
                self._match_collect_jobs(wanted)

    def _match_collect_jobs(self, wanted: dict[str, int]) -> None:
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
        # Every worker schedules every source; the lease lets one run it at a time, and the gap keeps
        # the others from running it again right after (each worker's job fires at its own phase).
        gap = timedelta(seconds=self.intervals.get(source_id, 0) * self.RUN_GAP)
        outcome = self.services.runner.run(source_id, self.services.clock(), min_gap=gap)
        self.services.telemetry.observe_collect(
            ok=outcome.ok, not_due=outcome.skipped_run, skipped_posts=outcome.skipped
        )
        if outcome.fetched:
            log.info("source %s: %s fetched, %s stored", source_id, outcome.fetched, outcome.stored)

    def detect(self) -> None:
        began = time.perf_counter()
        summary = self.services.ticker.tick(self.services.clock())
        self.services.telemetry.observe_tick(time.perf_counter() - began, summary.buckets_evaluated)
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

    def prune(self) -> None:
        if self.services.housekeeping is not None:
            self.services.housekeeping.prune()

    def send_digest(self) -> None:
        if self.services.housekeeping is not None:
            self.services.housekeeping.send_digest()
