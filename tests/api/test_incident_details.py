"""GET /api/v1/incidents/{id}/details: the summary page's content as data, for integrators."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.auth import create_api_key
from tests.api.test_pages import Scenario

pytest_plugins = ("tests.api.test_pages",)  # its env and scenario fixtures


def test_details_carry_headline_drivers_top_posts_and_timeline(  # type: ignore[no-untyped-def]
    client: TestClient, make_key, scenario: Scenario
) -> None:
    response = client.get(f"/api/v1/incidents/{scenario.incident_id}/details", headers=make_key("read"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["incident"]["id"] == scenario.incident_id
    assert "ノロシ珈琲" in body["headline"]["ja"] and "8×" in body["headline"]["en"]
    assert "異物混入" in [d["term"] for d in body["drivers"]]
    posts = body["top_posts"]
    assert [p["text"] for p in posts[: len(scenario.posts_by_reach)]] == scenario.posts_by_reach
    assert scenario.outside_post not in [p["text"] for p in posts]  # before the incident's window
    assert all(p["url"] is None or p["url"].startswith("http") for p in posts)  # no javascript: links
    assert [e["event"] for e in body["timeline"]] == ["acknowledge", "opened"]  # newest first
    assert body["timeline"][0]["actor"] == "tanaka@example.com"


def test_details_are_404_403_honest(client: TestClient, make_key, factory, now, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/incidents/999999/details", headers=make_key("read")).status_code == 404
    with factory() as session, session.begin():  # a key limited to the other brand
        _, secret = create_api_key(session, "limited", ["read"], now, brand_ids=[scenario.quiet_brand_id])
    limited = {"Authorization": f"Bearer {secret}"}
    denied = client.get(f"/api/v1/incidents/{scenario.incident_id}/details", headers=limited)
    assert denied.status_code == 403 and denied.json()["code"] == "brand_forbidden"
