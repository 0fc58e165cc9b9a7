"""Brand-limited API keys on every brand-owned router: lists filtered, another brand's object 403
`brand_forbidden`, a missing one 404, no key 401, the wrong scope 403 `forbidden` (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session, sessionmaker

from api.auth import create_api_key
from storage.engine import transaction
from storage.models import Incident

Factory = sessionmaker[Session]
MISSING = 999_999


@dataclass
class World:
    a: int  # the brand the limited keys may see
    b: int  # the brand they may not
    ids: dict[str, dict[str, int | None]]  # kind → {"a"|"b"|"all": id}
    admin: dict[str, str]
    reader: dict[str, str]  # read, limited to brand a
    limited_admin: dict[str, str]  # admin, limited to brand a
    ingest_only: dict[str, str]  # ingest, limited to brand a


def _key(factory: Factory, now: datetime, scopes: list[str], brand_ids: list[int] | None) -> dict[str, str]:
    with transaction(factory) as session:
        _, secret = create_api_key(session, "k", scopes, now, brand_ids=brand_ids)
    return {"Authorization": f"Bearer {secret}"}


def add_incident(factory: Factory, now: datetime, brand_id: int) -> int:
    with transaction(factory) as session:
        incident = Incident(
            brand_id=brand_id,
            kind="volume",
            dedup_key=f"brand:{brand_id}:volume",
            status="triggered",
            severity="flame",
            started_at=now - timedelta(minutes=10),
            last_signal_at=now,
            score=9.0,
            peak_score=9.0,
            observed=240.0,
            expected=30.0,
            upper=60.0,
            test="nb_tail_1h",
            evidence={},
            created_at=now,
            updated_at=now,
        )
        session.add(incident)
        session.flush()
        return incident.id


def _created(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
def world(client: TestClient, factory: Factory, now: datetime) -> World:
    admin = _key(factory, now, ["admin"], None)
    post = lambda path, body: _created(client.post(path, json=body, headers=admin))  # noqa: E731
    brands = {
        n: post("/api/v1/brands", {"name": kw, "keywords": [kw]})
        for n, kw in (("a", "あかね"), ("b", "みどり"))
    }
    ends = (now + timedelta(hours=2)).isoformat()
    ids: dict[str, dict[str, int | None]] = {"incidents": {}, "silences": {}, "campaign-windows": {}}
    ids["notification-routes"], ids["webhooks"] = {}, {}
    for name, brand in (*brands.items(), ("all", None)):
        ids["silences"][name] = post("/api/v1/silences", {"brand_id": brand, "ends_at": ends, "reason": "r"})
        route = {"brand_id": brand, "channel": "slack", "target": f"#{name}"}
        ids["notification-routes"][name] = post("/api/v1/notification-routes", route)
        hook = {"brand_id": brand, "url": f"https://hooks.example.com/{name}"}
        ids["webhooks"][name] = post("/api/v1/webhooks", hook)
        if brand is not None:
            ids["incidents"][name] = add_incident(factory, now, brand)
            window = {"brand_id": brand, "name": "launch", "ends_at": ends}
            ids["campaign-windows"][name] = post("/api/v1/campaign-windows", window)
    mentions = [
        {"id": f"m-{n}", "posted_at": "2026-11-21T05:00:00Z", "text": f"{kw}のラテ"}
        for n, kw in (("a", "あかね"), ("b", "みどり"))
    ]
    pushed = client.post("/api/v1/mentions", json={"mentions": mentions}, headers=admin).json()
    assert pushed["stored"] == 2
    return World(
        a=brands["a"],
        b=brands["b"],
        ids=ids,
        admin=admin,
        reader=_key(factory, now, ["read"], [brands["a"]]),
        limited_admin=_key(factory, now, ["admin"], [brands["a"]]),
        ingest_only=_key(factory, now, ["ingest"], [brands["a"]]),
    )


# (list path, key attribute, scope the list needs)
LISTS = [
    ("/api/v1/incidents", "reader"),
    ("/api/v1/silences", "reader"),
    ("/api/v1/campaign-windows", "reader"),
    ("/api/v1/notification-routes", "reader"),
    ("/api/v1/webhooks", "limited_admin"),
]


def test_lists_show_only_the_keys_brands(client: TestClient, world: World) -> None:
    for path, who in LISTS:
        kind = path.rsplit("/", 1)[1]
        limited = client.get(path, headers=getattr(world, who))
        assert limited.status_code == 200, (path, limited.text)
        assert [item["brand_id"] for item in limited.json()["items"]] == [world.a], path
        assert {item["id"] for item in limited.json()["items"]} == {world.ids[kind]["a"]}, path
        everything = client.get(path, headers=world.admin).json()["items"]
        assert len(everything) == len(world.ids[kind]) > 1, path
        other = client.get(path, params={"brand_id": world.b}, headers=getattr(world, who))
        assert (other.status_code, other.json()["code"]) == (403, "brand_forbidden"), path
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers=world.ingest_only).json()["code"] == "forbidden", path


def test_brand_and_mention_lists_are_filtered(client: TestClient, world: World) -> None:
    brands = client.get("/api/v1/brands", headers=world.reader).json()["items"]
    assert [b["id"] for b in brands] == [world.a]
    mentions = client.get("/api/v1/mentions", headers=world.reader).json()["items"]
    assert [m["external_id"] for m in mentions] == ["m-a"]
    assert len(client.get("/api/v1/mentions", headers=world.admin).json()["items"]) == 2
    forbidden = client.get("/api/v1/mentions", params={"brand_id": world.b}, headers=world.reader)
    assert forbidden.json()["code"] == "brand_forbidden"


# Single objects: (path template, kind whose ids to use, key attribute, method); the call on brand a's
# object succeeds, so a DELETE comes after the other calls on that kind.
OBJECTS = [
    ("/api/v1/brands/{id}", "brands", "reader", "GET"),
    ("/api/v1/brands/{id}/buckets", "brands", "reader", "GET"),
    ("/api/v1/brands/{id}/runbooks", "brands", "reader", "GET"),
    ("/api/v1/incidents/{id}", "incidents", "reader", "GET"),
    ("/api/v1/incidents/{id}/timeline", "incidents", "reader", "GET"),
    ("/api/v1/incidents/{id}/acknowledge", "incidents", "limited_admin", "POST"),
    ("/api/v1/silences/{id}", "silences", "limited_admin", "DELETE"),
    ("/api/v1/campaign-windows/{id}", "campaign-windows", "limited_admin", "DELETE"),
    ("/api/v1/notification-routes/{id}", "notification-routes", "limited_admin", "DELETE"),
    ("/api/v1/webhooks/{id}/rotate-secret", "webhooks", "limited_admin", "POST"),
    ("/api/v1/webhooks/{id}", "webhooks", "limited_admin", "DELETE"),
]


def _call(
    client: TestClient, method: str, template: str, headers: dict[str, str], ident: int | None
) -> Response:
    return client.request(method, template.format(id=ident), headers=headers)


def test_another_brands_object_is_403_a_missing_one_404(client: TestClient, world: World) -> None:
    for template, kind, who, method in OBJECTS:
        ids = {"a": world.a, "b": world.b} if kind == "brands" else world.ids[kind]
        headers = getattr(world, who)
        call = partial(_call, client, method, template, headers)
        forbidden = call(ids["b"])
        assert (forbidden.status_code, forbidden.json()["code"]) == (403, "brand_forbidden"), template
        if "all" in ids:  # a row for every brand is not a limited key's either
            assert call(ids["all"]).json()["code"] == "brand_forbidden", template
        missing = call(MISSING)
        assert (missing.status_code, missing.json()["code"]) == (404, "not_found"), template
        assert call(ids["a"]).status_code in (200, 204), template
        assert _call(client, method, template, {}, ids["a"]).status_code == 401, template


CREATES = [
    ("/api/v1/silences", {"reason": "r"}),
    ("/api/v1/campaign-windows", {"name": "w"}),
    ("/api/v1/notification-routes", {"channel": "slack", "target": "#x"}),
    ("/api/v1/webhooks", {"url": "https://hooks.example.com/x"}),
]


def test_creating_for_another_brand_is_403(client: TestClient, world: World, now: datetime) -> None:
    ends = {"ends_at": (now + timedelta(hours=1)).isoformat()}
    for path, fields in CREATES:
        body = {**fields, **ends} if path.endswith(("silences", "windows")) else fields
        other = client.post(path, json={**body, "brand_id": world.b}, headers=world.limited_admin)
        assert (other.status_code, other.json()["code"]) == (403, "brand_forbidden"), path
        own = client.post(path, json={**body, "brand_id": world.a}, headers=world.limited_admin)
        assert own.status_code == 201, own.text
        stored = client.get(path, headers=world.admin).json()["items"]
        assert len(stored) == len(world.ids[path.rsplit("/", 1)[1]]) + 1, path  # the refused one is not


def test_brand_limited_keys_cannot_create_brands_push_or_edit_other_runbooks(
    client: TestClient, world: World
) -> None:
    brand = client.post("/api/v1/brands", json={"name": "x", "keywords": ["x"]}, headers=world.limited_admin)
    assert brand.json()["code"] == "brand_forbidden"
    push = client.post(
        "/api/v1/mentions",
        json={"mentions": [{"id": "z", "posted_at": "2026-11-21T05:00:00Z", "text": "あかね"}]},
        headers=world.ingest_only,
    )
    assert (push.status_code, push.json()["code"]) == (403, "brand_forbidden")
    runbook = {"locale": "ja", "template": "# {{ brand }}"}
    other = client.put(f"/api/v1/brands/{world.b}/runbooks/volume", json=runbook, headers=world.limited_admin)
    assert other.json()["code"] == "brand_forbidden"
    assert client.get("/api/v1/api-keys", headers=world.limited_admin).json()["code"] == "brand_forbidden"
