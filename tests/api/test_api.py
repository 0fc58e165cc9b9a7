"""The /api/v1 surface: auth, brand validation, the push endpoint's per-item results and idempotence."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from collectors.sources.base import AUTH_ERROR_PREFIX
from storage.leases import heartbeat
from storage.mentions import Bucket, Mention
from storage.sources import Source
from tests.helpers import add_source

BRAND = {"name": "ノロシ珈琲", "keywords": ["ノロシ珈琲", "Noroshi Coffee"], "timezone": "Asia/Tokyo"}


def test_writes_need_a_key_with_the_right_scope(client, make_key) -> None:
    anonymous = client.post("/api/v1/brands", json=BRAND)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    assert anonymous.json()["code"] == "unauthorized"
    reader = client.post("/api/v1/brands", json=BRAND, headers=make_key("read"))
    assert reader.status_code == 403 and reader.json()["code"] == "forbidden"
    bad_key = client.get("/api/v1/brands", headers={"Authorization": "Bearer nrs_nothere_secret"})
    assert bad_key.status_code == 401
    writer = client.post("/api/v1/brands", json=BRAND, headers=make_key("write"))
    assert writer.status_code == 201, writer.text
    assert writer.json()["name"] == "ノロシ珈琲"


def test_bad_brands_get_a_clear_error_naming_the_field(client, make_key) -> None:
    headers = make_key("write", "read")
    cases = {
        "keywords": {**BRAND, "keywords": []},
        "timezone": {**BRAND, "timezone": "Mars/Olympus"},
        "bucket_minutes": {**BRAND, "bucket_minutes": 7},
    }
    for field, body in cases.items():
        response = client.post("/api/v1/brands", json=body, headers=headers)
        assert response.status_code == 422, field
        problem = response.json()
        assert problem["code"] == "validation_error"
        assert any(e["field"] == field for e in problem["errors"]), problem
    assert client.post("/api/v1/brands", json=BRAND, headers=headers).status_code == 201
    duplicate = client.post("/api/v1/brands", json=BRAND, headers=headers)
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "brand_exists"
    assert len(client.get("/api/v1/brands", headers=headers).json()["items"]) == 1


def test_push_stores_valid_items_and_reports_each_one(client, make_key, factory) -> None:
    admin = make_key("admin")
    client.post("/api/v1/brands", json=BRAND, headers=admin)
    items = [
        {"id": "a1", "posted_at": "2026-11-21T05:01:00Z", "text": "ノロシ珈琲のラテ美味しい", "author": "x"},
        {"id": "a2", "posted_at": "2026-11-21T05:02:00", "text": "ノロシ珈琲"},  # naive time
        {"id": "a3", "text": "Noroshi Coffee is awful"},  # no posted_at
        {"id": "a4", "posted_at": "2026-11-21T05:03:00+09:00", "text": "unrelated"},
        {
            "id": "a5",
            "posted_at": "2026-11-21T05:04:00Z",
            "text": "Noroshi Coffee was rude to me, never again",
            "followers": 1200,
            "reposts": 3,
            "lang": "en",
        },
    ]
    response = client.post("/api/v1/mentions", json={"mentions": items}, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["stored", "rejected", "rejected", "unmatched", "stored"]
    assert (body["stored"], body["rejected"], body["unmatched"]) == (2, 2, 1)
    assert body["results"][1]["errors"][0]["field"] == "posted_at"
    assert body["results"][2]["errors"][0]["field"] == "posted_at"

    again = client.post("/api/v1/mentions", json={"mentions": items}, headers=admin).json()
    assert [r["status"] for r in again["results"]] == [
        "duplicate",
        "rejected",
        "rejected",
        "unmatched",
        "duplicate",
    ]
    with factory() as session:
        assert session.scalar(select(func.count(Mention.id))) == 2
        assert session.scalar(select(func.sum(Bucket.total))) == 2

    listed = client.get("/api/v1/mentions", params={"limit": 1}, headers=admin).json()
    assert [m["external_id"] for m in listed["items"]] == ["a5"]
    second = client.get(
        "/api/v1/mentions", params={"limit": 1, "cursor": listed["next_cursor"]}, headers=admin
    ).json()
    assert [m["external_id"] for m in second["items"]] == ["a1"] and second["next_cursor"] is None


def test_push_envelope_errors_are_4xx(client, make_key) -> None:
    headers = make_key("ingest")
    assert client.post("/api/v1/mentions", json={"mentions": []}, headers=headers).status_code == 422
    assert (
        client.post(
            "/api/v1/mentions", content=b"{not json", headers={**headers, "content-type": "application/json"}
        ).status_code
        == 422
    )
    unknown = client.post(
        "/api/v1/mentions", json={"source": "nope", "mentions": [{"id": "1"}]}, headers=headers
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_source"
    too_many = [{"id": str(i)} for i in range(1001)]
    assert client.post("/api/v1/mentions", json={"mentions": too_many}, headers=headers).status_code == 422


def test_local_demo_mode_allows_writes_without_a_key(api_context, client) -> None:
    assert client.post("/api/v1/brands", json=BRAND).status_code == 401
    api_context.allow_local_writes = True
    assert client.post("/api/v1/brands", json=BRAND).status_code == 201


def test_health_endpoints(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["migrations"] == "ok"


def test_readyz_names_sources_whose_credentials_failed_without_gating_readiness(  # type: ignore[no-untyped-def]
    client, factory, now
) -> None:
    """Issue 6: auth failures surface in /readyz (and in the source's health on /api/v1/sources)."""
    with factory() as session, session.begin():
        add_source(session, "rss-ok", now, kind="rss", consecutive_failures=0)
        add_source(
            session, "rss-down", now, kind="rss", last_error="ConnectError: refused", consecutive_failures=2
        )
        denied = add_source(
            session,
            "x-main",
            now,
            kind="x",
            last_error=f"{AUTH_ERROR_PREFIX} 401 from X",
            consecutive_failures=1,
        ).id
        add_source(  # disabled: nobody expects it to collect, so it is not reported
            session,
            "x-old",
            now,
            kind="x",
            enabled=False,
            last_error=f"{AUTH_ERROR_PREFIX} 403",
            consecutive_failures=4,
        )
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["checks"]["sources"] == f"auth failed: x-main (id {denied})"
    with factory() as session, session.begin():
        session.get(Source, denied).consecutive_failures = 0  # the next collect succeeded
    assert client.get("/readyz").json()["checks"]["sources"] == "ok"


def test_readyz_reports_live_workers_without_gating_readiness(client, factory, now) -> None:  # type: ignore[no-untyped-def]
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["workers"].startswith("none alive")
    with factory() as session, session.begin():
        heartbeat(session, "host:1:a", now)
        heartbeat(session, "host:2:b", now - timedelta(seconds=20))
        heartbeat(session, "host:3:c", now - timedelta(minutes=5))  # dead: its beats stopped
    assert client.get("/readyz").json()["checks"]["workers"] == "2 alive"
