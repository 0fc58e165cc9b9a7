"""GET /metrics in the Prometheus text format: the process's counters plus gauges read from the database.

Counters and histograms (mentions ingested, collect runs, detection tick time, deliveries) come from the
process's `storage.telemetry.Telemetry`. Stored state — incidents by status × severity, sources by health
and how long since each last collected, the outbox backlog — is queried at scrape time by
`DatabaseCollector`, so it is right even when another process (a `noroshi worker`) did the work.

Who may scrape (one table, first match wins; see AUTH_RULES):
- a bearer token equal to NOROSHI_METRICS_TOKEN;
- no credentials from loopback, while NOROSHI_METRICS_TOKEN is unset (Prometheus on the same host);
- otherwise an API key with the `read` scope, as for /api/v1.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerting.lifecycle import Status
from alerting.severity import SEVERITY_ORDER
from api.auth import LOCAL_HOSTS, require
from api.context import ApiContext, get_context
from collectors.sources.base import AUTH_ERROR_PREFIX
from storage.incidents import Incident
from storage.notifications import Notification
from storage.sources import Source
from storage.telemetry import Telemetry

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
OUTBOX_STATUSES = ("pending", "sending", "dead")  # "sent" only grows; deliveries_total counts it
SOURCE_HEALTH = ("ok", "failing", "auth_error")


def source_health(consecutive_failures: int, last_error: str | None) -> str:
    """ok: the last run succeeded; auth_error: it failed on credentials; failing: any other failure."""
    if consecutive_failures == 0:
        return "ok"
    return "auth_error" if (last_error or "").startswith(AUTH_ERROR_PREFIX) else "failing"


class DatabaseCollector(Collector):
    """Gauges read from the database at each scrape (a few indexed aggregate queries)."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock) -> None:
        self.factory = factory
        self.clock = clock

    def describe(self) -> Iterable[Metric]:
        return []  # no query at registration time

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("noroshi_database_up", "1 if the database answered this scrape's queries.")
        try:
            with self.factory() as session:
                families = [
                    self._incidents(session),
                    *self._sources(session, self.clock()),
                    *self._outbox(session, self.clock()),
                ]
        except Exception as exc:  # a scrape must still answer, saying the database is down
            log.warning("metrics: database query failed: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    @staticmethod
    def _incidents(session: Session) -> Metric:
        counts = {
            (status, severity): n
            for status, severity, n in session.execute(
                select(Incident.status, Incident.severity, func.count()).group_by(
                    Incident.status, Incident.severity
                )
            )
        }
        family = GaugeMetricFamily(
            "noroshi_incidents", "Incidents by status and severity.", labels=["status", "severity"]
        )
        known = {(s.value, sev) for s in Status for sev in SEVERITY_ORDER}
        for status, severity in sorted(known | set(counts)):  # every combination, 0 when none
            family.add_metric([status, severity], counts.get((status, severity), 0))
        return family

    @staticmethod
    def _sources(session: Session, now: datetime) -> list[Metric]:
        rows = session.execute(
            select(
                Source.id,
                Source.name,
                Source.kind,
                Source.consecutive_failures,
                Source.last_error,
                Source.last_success_at,
            )
            .where(Source.enabled.is_(True))
            .order_by(Source.id)
        ).all()
        by_health = GaugeMetricFamily(
            "noroshi_sources", "Enabled sources by health (ok, failing, auth_error).", labels=["health"]
        )
        health = [source_health(r.consecutive_failures, r.last_error) for r in rows]
        for name in SOURCE_HEALTH:
            by_health.add_metric([name], health.count(name))
        labels = ["source_id", "source", "kind"]
        age = GaugeMetricFamily(
            "noroshi_source_last_success_age_seconds",
            "Seconds since the source last collected successfully (absent if it never has).",
            labels=labels,
        )
        failures = GaugeMetricFamily(
            "noroshi_source_consecutive_failures", "Failed runs since the last success.", labels=labels
        )
        for row in rows:
            key = [str(row.id), row.name, row.kind]
            failures.add_metric(key, row.consecutive_failures)
            if row.last_success_at is not None:
                age.add_metric(key, max((now - row.last_success_at).total_seconds(), 0.0))
        return [by_health, age, failures]

    @staticmethod
    def _outbox(session: Session, now: datetime) -> list[Metric]:
        counts = dict(
            session.execute(
                select(Notification.status, func.count())
                .where(Notification.status.in_(OUTBOX_STATUSES))
                .group_by(Notification.status)
            ).all()
        )
        backlog = GaugeMetricFamily(
            "noroshi_outbox_notifications",
            "Notifications waiting (pending), in flight (sending) or dead-lettered (dead).",
            labels=["status"],
        )
        for status in OUTBOX_STATUSES:
            backlog.add_metric([status], counts.get(status, 0))
        oldest = session.scalar(
            select(func.min(Notification.created_at)).where(Notification.status == "pending")
        )
        waiting = GaugeMetricFamily(
            "noroshi_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending notification (0 when none is pending).",
        )
        waiting.add_metric([], max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0)
        return [backlog, waiting]


@dataclass(frozen=True, slots=True)
class ScrapeRequest:
    bearer: str | None
    token: str | None  # NOROSHI_METRICS_TOKEN
    loopback: bool


# (who is asking → allowed without an API key?) — first match wins; no match: an API key with `read`.
AUTH_RULES: tuple[Callable[[ScrapeRequest], bool], ...] = (
    lambda r: (
        r.token is not None
        and r.bearer is not None
        and hmac.compare_digest(r.bearer.encode(), r.token.encode())
    ),
    lambda r: r.token is None and r.bearer is None and r.loopback,
)


def _scrape_request(request: Request, token: str | None) -> ScrapeRequest:
    header = request.headers.get("authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
    host = request.client.host if request.client else ""
    return ScrapeRequest(bearer=bearer, token=token, loopback=host in LOCAL_HOSTS)


def metrics_router(registry: CollectorRegistry, token: str | None) -> APIRouter:
    router = APIRouter(tags=["Operations"])

    def authorize(request: Request, context: ApiContext = Depends(get_context)) -> None:
        if any(rule(_scrape_request(request, token)) for rule in AUTH_RULES):
            return
        require("read")(request, context)  # raises the usual 401 / 403 problem

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        dependencies=[Depends(authorize)],
        responses={
            200: {
                "description": "Prometheus text exposition format 0.0.4",
                "content": {CONTENT_TYPE_PLAIN_0_0_4: {"example": _EXAMPLE}},
            },
            401: {"description": "no acceptable credentials"},
        },
    )
    def metrics() -> Response:
        """Counters of this process (mentions ingested, collect runs, detection tick time, deliveries)
        and gauges read from the database now (incidents by status × severity, sources by health and
        time since their last success, outbox backlog). Scrapers on the same host need no key while
        NOROSHI_METRICS_TOKEN is unset; otherwise send `Authorization: Bearer <NOROSHI_METRICS_TOKEN>` or
        an API key with the `read` scope."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)

    return router


def install_metrics(app: FastAPI, context: ApiContext, telemetry: Telemetry, token: str | None) -> None:
    """Serve GET /metrics from a registry of this app alone: the process's counters + database gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(telemetry.registry)
    registry.register(DatabaseCollector(context.factory, context.clock))
    app.state.metrics_registry = registry
    app.include_router(metrics_router(registry, token))


_EXAMPLE = """# HELP noroshi_mentions_ingested_total Posts through the ingest path, by source kind and fate.
# TYPE noroshi_mentions_ingested_total counter
noroshi_mentions_ingested_total{source_kind="rss",status="stored"} 1520.0
# HELP noroshi_incidents Incidents by status and severity.
# TYPE noroshi_incidents gauge
noroshi_incidents{severity="flame",status="triggered"} 1.0
"""
