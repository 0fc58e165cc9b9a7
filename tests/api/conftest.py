from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from alerting.actions import IncidentActions
from alerting.notify import Notifier, NotifyConfig
from alerting.summary import build_incident_context
from api.app import create_app
from api.auth import create_api_key
from api.context import ApiContext
from collectors.ingest import MentionIngestor


@pytest.fixture
def api_context(factory: sessionmaker[Session], scorer, now: datetime) -> ApiContext:  # type: ignore[no-untyped-def]
    # Real actions with no default routes: an action notifies only targets already told (none by default).
    actions = IncidentActions(Notifier(build_incident_context, NotifyConfig("http://noroshi.test")))
    return ApiContext(factory=factory, ingestor=MentionIngestor(scorer), clock=lambda: now, actions=actions)


@pytest.fixture
def client(api_context: ApiContext) -> Iterator[TestClient]:
    with TestClient(create_app(api_context)) as test_client:
        yield test_client


@pytest.fixture
def make_key(factory: sessionmaker[Session], now: datetime):  # type: ignore[no-untyped-def]
    def make(*scopes: str) -> dict[str, str]:
        with factory() as session, session.begin():
            _, secret = create_api_key(session, "test", list(scopes), now)
        return {"Authorization": f"Bearer {secret}"}

    return make
