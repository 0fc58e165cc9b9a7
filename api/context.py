"""What the HTTP layer needs from the composition root, passed in explicitly (no globals)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from alerting.actions import IncidentActions
from collectors.ingest import MentionIngestor


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class ApiContext:
    factory: sessionmaker[Session]
    ingestor: MentionIngestor
    clock: Callable[[], datetime] = system_clock
    public_url: str = "http://127.0.0.1:8000"
    allow_local_writes: bool = False
    scheduler_alive: Callable[[], bool] = field(default=lambda: True)
    slack_signing_secret: str | None = None  # verifies POST /slack/interactions; unset = Slack actions off
    page_secret: str | None = None  # NOROSHI_SECRET_KEY: pages need a signed link or API key; unset = open
    actions: IncidentActions | None = None  # acknowledge / resolve / snooze (Slack buttons, API)
    digest_timezone: str = "Asia/Tokyo"  # NOROSHI_DIGEST_TIMEZONE: day boundaries of /digest


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request; routers that write open their own transaction with session.begin().

    An async generator on purpose: FastAPI runs a sync generator's teardown in the thread pool, and
    under load every pool thread can be waiting for a database connection that only such a teardown
    would give back (a deadlock until the pool timeout). Here the close runs on the event loop: it
    only returns the connection (a rollback of a read), and the session itself connects lazily, in
    the endpoint's thread."""
    session = get_context(request).factory()
    try:
        yield session
    finally:
        session.close()
