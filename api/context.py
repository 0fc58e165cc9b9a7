"""What the HTTP layer needs from the composition root, passed in explicitly (no globals)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
    actions: IncidentActions | None = None  # acknowledge / resolve / snooze (Slack buttons, API)


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; routers that write open their own transaction with session.begin()."""
    with get_context(request).factory() as session:
        yield session
