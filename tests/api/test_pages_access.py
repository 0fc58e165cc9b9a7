"""Page access with NOROSHI_SECRET_KEY set: signed incident links, their cookie, API keys, the 401 page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alerting.page_links import sign_incident, signing_context_builder, verify, with_token
from alerting.summary import build_incident_context
from api.auth import create_api_key
from api.context import ApiContext
from api.pages import router
from storage.models import Incident
from tests.api.test_pages import NOW, Env, Scenario

pytest_plugins = ("tests.api.test_pages",)  # its env and scenario fixtures
KEY = "test-secret-key-0123456789"


@pytest.fixture()
def guarded(env: Env) -> Iterator[TestClient]:
    """The same pages with a secret key, seen from a remote address (no local-demo exemption)."""
    app = FastAPI()
    app.state.context = ApiContext(factory=env.factory, ingestor=None, clock=lambda: NOW, page_secret=KEY)  # type: ignore[arg-type]
    app.include_router(router)
    with TestClient(app, client=("203.0.113.9", 5000)) as client:
        yield client


def test_tokens_are_scoped_signed_and_expire() -> None:
    token = sign_incident(KEY, 42, NOW, timedelta(days=1))
    scope = verify(KEY, token, NOW)
    assert scope is not None and scope.incident_id == 42
    assert verify(KEY, token, NOW + timedelta(days=1, seconds=1)) is None  # expired
    assert verify("another-key", token, NOW) is None
    forged = token.replace("i42.", "i43.", 1)  # the id is signed
    assert verify(KEY, forged, NOW) is None
    assert verify(KEY, "garbage", NOW) is None and verify(KEY, "", NOW) is None
    assert with_token("https://n.example/incidents/42?lang=en", token).endswith(f"?lang=en&t={token}")


def test_without_a_token_pages_answer_401_in_both_languages(guarded: TestClient, scenario: Scenario) -> None:
    for path in (
        "/",
        f"/brands/{scenario.brand_id}",
        f"/incidents/{scenario.incident_id}",
        "/incidents/424242",
    ):
        response = guarded.get(path)
        assert response.status_code == 401, path
        assert "Slack" in response.text and "API キー" in response.text
    english = guarded.get(f"/incidents/{scenario.incident_id}?lang=en")
    assert english.status_code == 401 and "You need access" in english.text
    assert "ノロシ珈琲" not in english.text  # nothing about the incident leaks


def test_a_signed_link_opens_its_incident_and_sets_a_scoped_cookie(
    guarded: TestClient, scenario: Scenario
) -> None:
    token = sign_incident(KEY, scenario.incident_id, NOW)
    response = guarded.get(f"/incidents/{scenario.incident_id}?t={token}")
    assert response.status_code == 200 and "ノロシ珈琲" in response.text
    cookie = response.headers["set-cookie"]
    assert f"noroshi_i{scenario.incident_id}={token}" in cookie
    assert "HttpOnly" in cookie and f"Path=/incidents/{scenario.incident_id}" in cookie
    # the cookie now opens the report, runbook and chart of that incident, without the token
    for tail in ("/report", "/report?format=md", "/runbook", "/chart.png"):
        assert guarded.get(f"/incidents/{scenario.incident_id}{tail}").status_code == 200, tail
    # but not another incident, the brand page or the dashboard
    assert guarded.get(f"/incidents/{scenario.older_incident_id}").status_code == 401
    assert guarded.get(f"/incidents/{scenario.older_incident_id}?t={token}").status_code == 401
    assert guarded.get(f"/brands/{scenario.brand_id}").status_code == 401
    assert guarded.get("/").status_code == 401


def test_an_expired_link_says_so(guarded: TestClient, scenario: Scenario) -> None:
    token = sign_incident(KEY, scenario.incident_id, NOW - timedelta(days=30), timedelta(days=14))
    response = guarded.get(f"/incidents/{scenario.incident_id}?t={token}")
    assert response.status_code == 401 and "期限切れ" in response.text
    assert "set-cookie" not in response.headers


def test_an_api_key_with_read_scope_opens_everything(
    guarded: TestClient, env: Env, scenario: Scenario
) -> None:
    with env.factory() as session, session.begin():
        _, reader = create_api_key(session, "exec", ["read"], NOW)
        _, ingest_only = create_api_key(session, "bot", ["ingest"], NOW)
    assert guarded.get("/", headers={"Authorization": f"Bearer {reader}"}).status_code == 200
    assert guarded.get("/", headers={"X-API-Key": ingest_only}).status_code == 401
    # the sign-in form keeps the key in an HttpOnly cookie and goes back to the refused page
    rejected = guarded.post(
        "/access", data={"api_key": ingest_only, "next_path": "/"}, follow_redirects=False
    )
    assert rejected.status_code == 401 and "使えません" in rejected.text
    signed_in = guarded.post(
        "/access",
        data={"api_key": reader, "next_path": f"/brands/{scenario.brand_id}"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == f"/brands/{scenario.brand_id}"
    assert "noroshi_key=" in signed_in.headers["set-cookie"] and "HttpOnly" in signed_in.headers["set-cookie"]
    assert guarded.get(f"/brands/{scenario.brand_id}").status_code == 200
    assert guarded.get(f"/incidents/{scenario.incident_id}").status_code == 200
    offsite = guarded.post(
        "/access", data={"api_key": reader, "next_path": "//evil.example/"}, follow_redirects=False
    )
    assert offsite.headers["location"] == "/"  # no open redirect


def test_local_demo_and_unset_key_keep_pages_open(env: Env, scenario: Scenario) -> None:
    assert env.client.get("/").status_code == 200  # no secret key: open, as before
    app = FastAPI()
    app.state.context = ApiContext(  # type: ignore[arg-type]
        factory=env.factory, ingestor=None, clock=lambda: NOW, page_secret=KEY, allow_local_writes=True
    )
    app.include_router(router)
    with TestClient(app) as local:  # "testclient" counts as a local host, like 127.0.0.1
        assert local.get(f"/incidents/{scenario.incident_id}").status_code == 200


def test_notification_links_carry_a_token_for_their_incident(env: Env, scenario: Scenario) -> None:
    build = signing_context_builder(build_incident_context, KEY, timedelta(days=3))
    with env.factory() as session:
        incident = session.get(Incident, scenario.incident_id)
        assert incident is not None
        context = build(session, incident, "https://noroshi.example/", NOW)
    for url in (
        context["incident"]["url"],
        context["runbook"]["url"],
        context["chart_url"],
        context["report_url"],
    ):
        assert url.startswith(f"https://noroshi.example/incidents/{scenario.incident_id}")
        token = url.split("?t=")[1]
        scope = verify(KEY, token, NOW + timedelta(days=2))
        assert scope is not None and scope.incident_id == scenario.incident_id
