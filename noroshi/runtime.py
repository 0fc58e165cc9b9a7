"""Process entry points: the combined service (`run`), the API alone (`serve`), the scheduler (`worker`)."""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from api.app import create_app
from api.context import ApiContext
from noroshi.bootstrap_key import ensure_bootstrap_key
from noroshi.demo import seed_demo
from noroshi.services import JobScheduler, Services, build_services
from noroshi.settings import Settings
from storage.engine import make_engine, make_session_factory, transaction
from storage.leases import live_workers
from storage.migrations import upgrade
from storage.sources import Source

log = logging.getLogger(__name__)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def build_app(services: Services, scheduler: JobScheduler | None) -> FastAPI:
    settings = services.settings
    context = ApiContext(
        factory=services.factory,
        ingestor=services.ingestor,
        clock=services.clock,
        public_url=settings.public_url,
        allow_local_writes=settings.allow_local_writes,
        scheduler_alive=scheduler.alive if scheduler else (lambda: True),
        slack_signing_secret=(
            settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
        ),
        actions=services.actions,
        digest_timezone=settings.digest_timezone,
        page_secret=settings.secret_key.get_secret_value() if settings.secret_key else None,
    )
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    app = create_app(context, telemetry=services.telemetry, metrics_token=token)
    if scheduler is not None:

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            scheduler.start()
            try:
                yield
            finally:
                scheduler.shutdown()

        app.router.lifespan_context = lifespan
    return app


def prepare(settings: Settings, demo: bool) -> Services:
    upgrade(settings.database_url)
    services = build_services(settings)
    if settings.admin_key is not None:
        with transaction(services.factory) as session:
            outcome = ensure_bootstrap_key(session, settings.admin_key.get_secret_value(), services.clock())
        log.info("bootstrap admin key from NOROSHI_ADMIN_KEY: %s", outcome)
    if demo:
        with transaction(services.factory) as session:
            brand, source = seed_demo(session, services.clock(), settings.demo_speed)
        log.info("demo: brand %r, replay source %r at %sx", brand.name, source.name, settings.demo_speed)
    return services


def run_service(settings: Settings, demo: bool, host: str | None, port: int | None, scheduler: bool) -> None:
    services = prepare(settings, demo)
    detect_every = min(settings.detect_interval_seconds, 5) if demo else settings.detect_interval_seconds
    jobs = JobScheduler(services, detect_every) if scheduler else None
    app = build_app(services, jobs)
    if demo:
        app.state.context.allow_local_writes = True
    bind = host or settings.host
    if settings.secret_key is None and bind not in LOOPBACK_HOSTS:
        log.warning(
            "NOROSHI_SECRET_KEY is unset: the incident pages on %s are open to anyone who can reach it", bind
        )
    # Everything built so far lives as long as the process: frozen, it is no longer walked by every full
    # collection (measured: 50–250 ms pauses several times a minute under load without this).
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=bind, port=port or settings.port, log_level=settings.log_level.lower())


def run_worker(settings: Settings) -> None:
    services = prepare(settings, demo=False)
    jobs = JobScheduler(services, settings.detect_interval_seconds)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    jobs.start()
    stop_metrics = None
    if settings.metrics_port:  # a worker has no API; its counters get their own /metrics server
        stop_metrics = services.telemetry.serve(settings.metrics_host, settings.metrics_port)
    log.info("worker %s started", services.worker_name)
    stop.wait()
    jobs.shutdown()
    if stop_metrics is not None:
        stop_metrics()


def describe_workers(settings: Settings, within: timedelta = timedelta(minutes=1)) -> str:
    """One line per live worker (heartbeat within `within`) with the sources it is collecting now."""
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            now = datetime.now(UTC)
            held: dict[str, list[str]] = {}
            for name, owner in session.execute(
                select(Source.name, Source.lease_owner).where(
                    Source.lease_owner.is_not(None), Source.lease_expires_at > now
                )
            ):
                held.setdefault(owner, []).append(name)
            rows = live_workers(session, now, within)
            lines = [
                f"{w.name}  seen {int((now - w.seen_at).total_seconds())} s ago  "
                f"collecting: {', '.join(sorted(held.get(w.name, []))) or '-'}"
                for w in rows
            ]
    finally:
        engine.dispose()
    return "\n".join(lines) if lines else "no live workers"
