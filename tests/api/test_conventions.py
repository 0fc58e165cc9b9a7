"""API conventions: ETag/If-None-Match on polled reads, Idempotency-Key on creates (replay, mismatch,
concurrent duplicates, expiry), and their OpenAPI documentation — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.auth import Principal, create_api_key
from api.context import ApiContext
from api.etag import matches
from api.idempotency import IdempotentRequest, run_idempotent
from api.problems import ApiProblem
from storage.brands import Brand
from storage.engine import transaction
from storage.idempotency import IdempotencyRecord, prune_idempotency_records
from tests.api.test_brand_limits import add_incident

Factory = sessionmaker[Session]
BRAND = {"name": "あかね", "keywords": ["あかね"]}


def _key(
    factory: Factory, now: datetime, scopes: list[str], brand_ids: list[int] | None = None
) -> dict[str, str]:
    with transaction(factory) as session:
        _, secret = create_api_key(session, "k", scopes, now, brand_ids=brand_ids)
    return {"Authorization": f"Bearer {secret}"}


def _brand_count(factory: Factory) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(Brand)) or 0)


# -- ETag / If-None-Match ---------------------------------------------------------------------------


def test_etag_304_until_the_data_changes(client: TestClient, factory: Factory, now: datetime) -> None:
    admin = _key(factory, now, ["admin"])
    client.post("/api/v1/brands", json=BRAND, headers=admin)
    first = client.get("/api/v1/brands", headers=admin)
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == "private, no-cache"
    again = client.get("/api/v1/brands", headers={**admin, "If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == etag and again.headers["cache-control"] == "private, no-cache"
    client.post("/api/v1/brands", json={"name": "みどり", "keywords": ["みどり"]}, headers=admin)
    changed = client.get("/api/v1/brands", headers={**admin, "If-None-Match": etag})
    assert changed.status_code == 200 and len(changed.json()["items"]) == 2
    assert changed.headers["etag"] != etag


@pytest.mark.parametrize("path", ["/api/v1/brands/1", "/api/v1/incidents", "/api/v1/mentions"])
def test_polled_reads_carry_an_etag(client: TestClient, factory: Factory, now: datetime, path: str) -> None:
    admin = _key(factory, now, ["admin"])
    client.post("/api/v1/brands", json=BRAND, headers=admin)
    first = client.get(path, headers=admin)
    assert first.status_code == 200 and "etag" in first.headers
    assert client.get(path, headers={**admin, "If-None-Match": first.headers["etag"]}).status_code == 304


def test_etag_differs_between_brand_scopes_even_for_the_same_body(
    client: TestClient, factory: Factory, now: datetime
) -> None:
    admin = _key(factory, now, ["admin"])
    brand_id = client.post("/api/v1/brands", json=BRAND, headers=admin).json()["id"]
    limited = _key(factory, now, ["read"], [brand_id])
    everything, mine = (
        client.get("/api/v1/brands", headers=admin),
        client.get("/api/v1/brands", headers=limited),
    )
    assert everything.content == mine.content
    assert everything.headers["etag"] != mine.headers["etag"]
    cross = client.get("/api/v1/brands", headers={**limited, "If-None-Match": everything.headers["etag"]})
    assert cross.status_code == 200


def test_errors_and_writes_get_no_etag(client: TestClient, factory: Factory, now: datetime) -> None:
    admin = _key(factory, now, ["admin"])
    assert "etag" not in client.get("/api/v1/brands/42", headers=admin).headers
    assert "etag" not in client.post("/api/v1/brands", json=BRAND, headers=admin).headers


def test_if_none_match_comparison() -> None:
    assert matches('"a", W/"b"', '"b"') and matches("*", '"z"') and matches('"a"', '"a"')
    assert not matches('"a"', '"b"') and not matches(None, '"a"') and not matches("", '"a"')


# -- Idempotency-Key --------------------------------------------------------------------------------


def test_same_key_same_body_replays_without_creating_again(
    client: TestClient, factory: Factory, now: datetime
) -> None:
    admin = {**_key(factory, now, ["admin"]), "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/brands", json=BRAND, headers=admin)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    # Key order and whitespace do not make it another request.
    replay = client.post(
        "/api/v1/brands",
        content=b'{ "keywords": ["\\u3042\\u304b\\u306d"],  "name": "\\u3042\\u304b\\u306d" }',
        headers={**admin, "content-type": "application/json"},
    )
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert _brand_count(factory) == 1


def test_same_key_other_body_is_422_and_other_callers_keys_are_separate(
    client: TestClient, factory: Factory, now: datetime
) -> None:
    admin = {**_key(factory, now, ["admin"]), "Idempotency-Key": "k-2"}
    assert client.post("/api/v1/brands", json=BRAND, headers=admin).status_code == 201
    other = client.post("/api/v1/brands", json={"name": "みどり", "keywords": ["みどり"]}, headers=admin)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    elsewhere = client.post("/api/v1/silences", json=_silence(now), headers=admin)
    assert elsewhere.json()["code"] == "idempotency_key_reused"  # same key, another path
    someone_else = {**_key(factory, now, ["admin"]), "Idempotency-Key": "k-2"}
    assert client.post("/api/v1/silences", json=_silence(now), headers=someone_else).status_code == 201
    assert _brand_count(factory) == 1


def test_a_failed_create_releases_the_key(client: TestClient, factory: Factory, now: datetime) -> None:
    admin = _key(factory, now, ["admin"])
    client.post("/api/v1/brands", json=BRAND, headers=admin)
    retried = {**admin, "Idempotency-Key": "k-3"}
    assert client.post("/api/v1/brands", json=BRAND, headers=retried).json()["code"] == "brand_exists"
    fixed = client.post("/api/v1/brands", json={"name": "みどり", "keywords": ["みどり"]}, headers=retried)
    assert fixed.status_code == 201 and "idempotent-replayed" not in fixed.headers


def _silence(now: datetime) -> dict[str, object]:
    return {"ends_at": (now + timedelta(hours=1)).isoformat(), "reason": "maintenance"}


CREATES: list[tuple[str, Callable[[datetime], dict[str, object]]]] = [
    ("/api/v1/silences", _silence),
    ("/api/v1/notification-routes", lambda _: {"channel": "slack", "target": "#pr"}),
    ("/api/v1/webhooks", lambda _: {"url": "https://hooks.example.com/x"}),
    ("/api/v1/sources", lambda _: {"name": "feed", "kind": "push"}),
]


@pytest.mark.parametrize(("path", "body"), CREATES)
def test_every_create_replays(
    client: TestClient,
    factory: Factory,
    now: datetime,
    path: str,
    body: Callable[[datetime], dict[str, object]],
) -> None:
    admin = {**_key(factory, now, ["admin"]), "Idempotency-Key": f"k-{path}"}
    first = client.post(path, json=body(now), headers=admin)
    assert first.status_code == 201, first.text
    replay = client.post(path, json=body(now), headers=admin)
    assert (replay.status_code, replay.json()) == (201, first.json())
    assert replay.headers["idempotent-replayed"] == "true"
    assert len(client.get(path, headers=admin).json()["items"]) == 1


def test_invalid_idempotency_key_is_400(client: TestClient, factory: Factory, now: datetime) -> None:
    admin = {**_key(factory, now, ["admin"]), "Idempotency-Key": "x" * 256}
    response = client.post("/api/v1/brands", json=BRAND, headers=admin)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_idempotency_key")
    assert _brand_count(factory) == 0


class _Out(BaseModel):
    n: int


def test_concurrent_duplicates_create_once(api_context: ApiContext, factory: Factory) -> None:
    """Eight threads race with one key; the unique constraint lets exactly one create. While it runs the
    others get 409 idempotency_key_in_progress; afterwards the same request is replayed."""
    principal = Principal(name="k", scopes=frozenset({"admin"}), key_id=1)
    request = IdempotentRequest(key="race", method_path="POST /x", request_hash="h")
    created, release, start = [], threading.Event(), threading.Barrier(8)
    outcomes: list[object] = []

    def create() -> _Out:
        created.append(1)
        release.wait(10)  # hold the reservation until every other thread has had its answer
        return _Out(n=len(created))

    def attempt() -> None:
        start.wait(10)
        try:
            outcomes.append(run_idempotent(api_context, principal, request, create).status_code)
        except ApiProblem as exc:
            outcomes.append(exc.code)
            if len(outcomes) == 7:
                release.set()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(created) == 1
    assert sorted(map(str, outcomes)) == ["201", *["idempotency_key_in_progress"] * 7]
    replay = run_idempotent(api_context, principal, request, create)
    assert replay.headers["idempotent-replayed"] == "true" and replay.body == b'{"n":1}'
    assert len(created) == 1


def test_records_expire_after_a_day(factory: Factory, now: datetime) -> None:
    with transaction(factory) as session:
        for owner, age in (("old", timedelta(hours=25)), ("new", timedelta(hours=23))):
            session.add(
                IdempotencyRecord(
                    owner=owner,
                    idempotency_key="k",
                    method_path="POST /x",
                    request_hash="h",
                    status_code=201,
                    response_body="{}",
                    created_at=now - age,
                )
            )
    with transaction(factory) as session:
        assert prune_idempotency_records(session, now) == 1
    with factory() as session:
        assert list(session.scalars(select(IdempotencyRecord.owner))) == ["new"]


# -- OpenAPI ----------------------------------------------------------------------------------------


def test_openapi_documents_etag_and_idempotency(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/incidents",
        "/api/v1/incidents/{incident_id}",
        "/api/v1/brands",
        "/api/v1/mentions",
    ):
        get = paths[path]["get"]
        assert "304" in get["responses"] and "ETag" in get["responses"]["200"]["headers"]
        assert any(p["name"] == "If-None-Match" for p in get["parameters"])
    for path in ("/api/v1/brands", "/api/v1/silences", "/api/v1/api-keys", "/api/v1/webhooks"):
        post = paths[path]["post"]
        assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
        assert "422" in post["responses"] and "409" in post["responses"]


def test_comments_and_campaign_windows_replay(client: TestClient, factory: Factory, now: datetime) -> None:
    admin = _key(factory, now, ["admin"])
    brand_id = client.post("/api/v1/brands", json=BRAND, headers=admin).json()["id"]
    incident_id = add_incident(factory, now, brand_id)
    for path, body in (
        (f"/api/v1/incidents/{incident_id}/comment", {"text": "声明を出しました"}),
        (
            "/api/v1/campaign-windows",
            {"brand_id": brand_id, "name": "launch", "ends_at": _silence(now)["ends_at"]},
        ),
    ):
        headers = {**admin, "Idempotency-Key": f"once-{path}"}
        first = client.post(path, json=body, headers=headers)
        replay = client.post(path, json=body, headers=headers)
        assert first.status_code in (200, 201) and "idempotent-replayed" not in first.headers, first.text
        assert (replay.status_code, replay.json()) == (first.status_code, first.json())
        assert replay.headers["idempotent-replayed"] == "true"
    timeline = client.get(f"/api/v1/incidents/{incident_id}/timeline", headers=admin).json()["items"]
    assert [e["note"] for e in timeline if e["event"] == "comment"] == ["声明を出しました"]
    assert len(client.get("/api/v1/campaign-windows", headers=admin).json()["items"]) == 1
