"""Process entry points: the combined service (`run`), the API alone (`serve`), the scheduler (`worker`)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.context import ApiContext
from noroshi.demo import seed_demo
from noroshi.services import JobScheduler, Services, build_services
from noroshi.settings import Settings
from storage.engine import transaction
from storage.migrations import upgrade

log = logging.getLogger(__name__)


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
    )
    app = create_app(context)
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
    uvicorn.run(
        app, host=host or settings.host, port=port or settings.port, log_level=settings.log_level.lower()
    )


def run_worker(settings: Settings) -> None:
    services = prepare(settings, demo=False)
    jobs = JobScheduler(services, settings.detect_interval_seconds)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    jobs.start()
    log.info("worker started")
    stop.wait()
    jobs.shutdown()
