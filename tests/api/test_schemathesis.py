"""Schemathesis against the OpenAPI document, in-process: every /api/v1 operation gets generated requests
(valid and invalid) with an admin key on a seeded SQLite database, and every answer must be no 5xx, a
declared status, the declared content type, and match the declared schema.

SQLite only (the store does not change what the schema promises); examples per operation are bounded
and derandomized so the run is repeatable and takes well under a minute.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker

from alerting.actions import IncidentActions
from alerting.notify import Notifier, NotifyConfig
from alerting.summary import build_incident_context
from alerting.tick import DetectionTicker
from api.app import create_app
from api.auth import create_api_key
from api.context import ApiContext
from collectors.ingest import MentionIngestor
from storage.engine import make_engine, make_session_factory
from storage.migrations import upgrade
from storage.timebuckets import bucket_start
from tests.alerting.test_tick import _day_with_flare, _fill
from tests.helpers import add_brand

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)
EXAMPLES = 25  # per operation: ~40 operations stay well under a minute
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _seed_day(factory: sessionmaker[Session], brand_id: int) -> None:
    """A day of buckets ending in a flare, so the real tick opens incidents with timelines."""
    start, rng = bucket_start(NOW - timedelta(days=1), 5), random.Random(11)
    with factory() as session, session.begin():
        _fill(session, brand_id, start, _day_with_flare(rng, flare_at=250))
    assert DetectionTicker(factory).tick(NOW).opened


def _seed_through_the_api(client: TestClient, auth: dict[str, str], brand_id: int) -> None:
    """Mentions, an action and a comment on an incident, muting, routes, a webhook and a runbook."""
    later = (NOW + timedelta(days=1)).isoformat()
    posts = [
        {"id": f"m{i}", "posted_at": (NOW - i * FIVE).isoformat(), "text": f"ノロシ珈琲 ひどい対応 {i}"}
        for i in range(30)
    ]
    calls = [
        ("post", "/api/v1/mentions", {"mentions": posts}),
        ("post", "/api/v1/incidents/1/acknowledge", {"note": "on it"}),
        ("post", "/api/v1/incidents/1/comment", {"text": "statement drafted"}),
        ("post", "/api/v1/silences", {"brand_id": brand_id, "ends_at": later, "reason": "collector work"}),
        ("post", "/api/v1/campaign-windows", {"brand_id": brand_id, "name": "launch", "ends_at": later}),
        ("post", "/api/v1/notification-routes", {"channel": "email", "target": "pr@example.com"}),
        ("post", "/api/v1/webhooks", {"url": "https://hooks.example.com/noroshi"}),
        ("put", f"/api/v1/brands/{brand_id}/runbooks/volume", {"template": "# {{ brand }}", "locale": "ja"}),
    ]
    for method, path, body in calls:
        response = client.request(method, path, json=body, headers=auth)
        assert response.status_code < 300, (path, response.text)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, scorer) -> Iterator[tuple[FastAPI, dict[str, str]]]:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('schemathesis')) / 'noroshi.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        brand_id = add_brand(
            session, "ノロシ珈琲", ["ノロシ珈琲", "Noroshi Coffee"], NOW, exclude=["のろし台"]
        ).id
        _, secret = create_api_key(session, "schemathesis", ["admin"], NOW)
    _seed_day(factory, brand_id)
    actions = IncidentActions(Notifier(build_incident_context, NotifyConfig("http://noroshi.test")))
    context = ApiContext(
        factory=factory, ingestor=MentionIngestor(scorer), clock=lambda: NOW, actions=actions
    )
    app = create_app(context)
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as client:
        _seed_through_the_api(client, auth, brand_id)
    yield app, auth
    engine.dispose()


@pytest.fixture(scope="module")
def api_schema(seeded: tuple[FastAPI, dict[str, str]]):  # type: ignore[no-untyped-def]
    app, _ = seeded
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _operations() -> list[tuple[str, str]]:
    """Every /api/v1 operation, read from a database-less app at collection time (no seeding needed)."""
    spec = create_app(ApiContext(factory=None, ingestor=None)).openapi()  # type: ignore[arg-type]
    return [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
    ]


def _cases(api_schema, method: str, path: str):  # type: ignore[no-untyped-def]
    """Schema-valid and schema-invalid requests, plus the documented examples, for one operation."""
    operation = api_schema[path][method]
    return st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
        *api_schema.get_strategies_from_examples(operation),
    )


@pytest.mark.parametrize(("method", "path"), _operations())
def test_api_conforms_to_its_schema(api_schema, seeded, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    _, auth = seeded

    @given(case=_cases(api_schema, method, path))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:  # type: ignore[no-untyped-def]
        case.call_and_validate(headers=auth, checks=CHECKS)

    run()


def test_the_same_checks_catch_a_server_error_and_a_body_off_schema() -> None:
    """The harness is not vacuous: an app that answers off-schema, or with a 500, fails these checks."""
    app = FastAPI()

    class Out(BaseModel):
        n: int

    @app.get("/api/v1/off-schema", response_model=Out)
    def off_schema() -> JSONResponse:
        return JSONResponse({"n": "not a number"})

    @app.get("/api/v1/crash", response_model=Out)
    def crash() -> JSONResponse:
        return JSONResponse({"detail": "boom"}, status_code=500)

    broken = schemathesis.openapi.from_asgi("/openapi.json", app)
    for path, expected in (("/api/v1/off-schema", "schema"), ("/api/v1/crash", "server error")):
        try:
            broken[path]["GET"].Case().call_and_validate(checks=CHECKS)
        except* Exception as group:  # schemathesis raises a group of the failures it found
            found = [str(e).lower() for e in group.exceptions]
        else:
            pytest.fail(f"{path}: the checks passed a broken answer")
        assert any(expected in text for text in found), found


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/brands/99999999999999999999"),
        ("get", "/api/v1/incidents?brand_id=-99999999999999999999"),
        ("post", "/api/v1/incidents/99999999999999999999/acknowledge"),
    ],
)
def test_ids_beyond_64_bits_are_a_422_on_both_stores(client, make_key, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    """Found by the run: such ids crashed the database driver (500); now the request is refused by name."""
    response = client.request(method, path, headers=make_key("admin"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] in {"value_out_of_range", "invalid_value"}  # SQLite / PostgreSQL
    assert "64" in response.json()["detail"]


@pytest.mark.parametrize("body", [b"\xff\xfe{", b"\x80 not utf-8", b'{"template": '])
def test_a_body_that_is_not_json_is_a_declared_422_naming_the_body(  # type: ignore[no-untyped-def]
    client, make_key, factory, now, body: bytes
) -> None:
    """Found by the run: bytes that are not UTF-8 got FastAPI's bare 400, declared on no operation."""
    with factory() as session, session.begin():
        brand_id = add_brand(session, "ノロシ珈琲", ["ノロシ珈琲"], now).id
    path = "/api/v1/brands/{brand_id}/runbooks/{kind}"
    headers = {**make_key("admin"), "Content-Type": "application/json"}
    response = client.put(f"/api/v1/brands/{brand_id}/runbooks/volume", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert [e["field"] for e in response.json()["errors"]] == ["body"]
    declared = client.get("/openapi.json").json()["paths"][path]["put"]["responses"]
    assert "422" in declared and "400" not in declared
