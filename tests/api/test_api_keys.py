"""/api/v1/api-keys and `noroshi keys`: shown once, stored hashed, revocable, expiring, brand-limited,
last use recorded at most once a minute — against SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.auth import authenticate, create_api_key, hash_secret
from noroshi.cli import app as cli_app
from storage.api_keys import ApiKey
from storage.engine import transaction

Factory = sessionmaker[Session]
METADATA = {
    "id",
    "name",
    "prefix",
    "scopes",
    "brand_ids",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
}


def _admin(factory: Factory, now: datetime, brand_ids: list[int] | None = None) -> dict[str, str]:
    with transaction(factory) as session:
        _, secret = create_api_key(session, "root", ["admin"], now, brand_ids=brand_ids)
    return {"Authorization": f"Bearer {secret}"}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _brand(client: TestClient, admin: dict[str, str], name: str) -> int:
    return int(
        client.post("/api/v1/brands", json={"name": name, "keywords": [name]}, headers=admin).json()["id"]
    )


def test_create_shows_the_key_once_and_stores_only_its_hash(
    client: TestClient, factory: Factory, now: datetime
) -> None:
    admin = _admin(factory, now)
    brand = _brand(client, admin, "あかね")
    body = {
        "name": "dashboard",
        "scopes": ["read"],
        "brand_ids": [brand],
        "expires_at": "2027-01-01T09:00:00+09:00",
    }
    created = client.post("/api/v1/api-keys", json=body, headers=admin)
    assert created.status_code == 201, created.text
    out = created.json()
    assert set(out) == METADATA | {"key", "key_shown"} and out["key_shown"] is True
    assert out["key"].startswith(f"nrs_{out['prefix']}_")
    assert (out["scopes"], out["brand_ids"], out["expires_at"]) == (["read"], [brand], "2027-01-01T00:00:00Z")
    with factory() as session:
        stored = session.get(ApiKey, out["id"])
        assert stored is not None and stored.key_hash == hash_secret(out["key"].split("_", 2)[2])
        assert out["key"] not in repr(stored.__dict__)
    assert client.get("/api/v1/brands", headers=_bearer(out["key"])).status_code == 200
    for listed in (
        client.get("/api/v1/api-keys", headers=admin).json()["items"],
        [client.get(f"/api/v1/api-keys/{out['id']}", headers=admin).json()],
    ):
        mine = next(k for k in listed if k["id"] == out["id"])
        assert set(mine) == METADATA
        assert mine["last_used_at"] == "2026-11-21T06:00:00Z"  # the request above


def test_revoked_keys_get_401_at_once(client: TestClient, factory: Factory, now: datetime) -> None:
    admin = _admin(factory, now)
    out = client.post("/api/v1/api-keys", json={"name": "ci", "scopes": ["ingest"]}, headers=admin).json()
    revoked = client.delete(f"/api/v1/api-keys/{out['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] == "2026-11-21T06:00:00Z"
    refused = client.get("/api/v1/brands", headers=_bearer(out["key"]))
    assert (refused.status_code, refused.json()["code"]) == (401, "unauthorized")
    assert [k["id"] for k in client.get("/api/v1/api-keys", headers=admin).json()["items"]] == [1]
    with_revoked = client.get("/api/v1/api-keys", params={"include_revoked": True}, headers=admin).json()
    assert [k["id"] for k in with_revoked["items"]] == [out["id"], 1]
    assert client.delete("/api/v1/api-keys/999", headers=admin).json()["code"] == "not_found"
    assert client.get("/api/v1/api-keys/999", headers=admin).status_code == 404


def test_list_is_paginated_newest_first(client: TestClient, factory: Factory, now: datetime) -> None:
    admin = _admin(factory, now)
    for n in range(3):
        client.post("/api/v1/api-keys", json={"name": f"k{n}", "scopes": ["read"]}, headers=admin)
    first = client.get("/api/v1/api-keys", params={"limit": 2}, headers=admin).json()
    rest = client.get("/api/v1/api-keys", params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin)
    ids = [k["id"] for k in first["items"] + rest.json()["items"]]
    assert ids == [4, 3, 2, 1] and rest.json()["next_cursor"] is None
    assert client.get("/api/v1/api-keys", params={"limit": 101}, headers=admin).status_code == 422


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "x", "scopes": ["root"]}, "validation_error"),
        ({"name": "x", "scopes": []}, "validation_error"),
        ({"name": " ", "scopes": ["read"]}, "validation_error"),
        ({"name": "x", "scopes": ["read"], "brand_ids": []}, "validation_error"),
        ({"name": "x", "scopes": ["read"], "brand_ids": [404]}, "unknown_brand"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2026-11-21T05:00:00Z"}, "validation_error"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2027-01-01T00:00:00"}, "validation_error"),
        ({"name": "x", "scopes": ["read"], "secret": "mine"}, "validation_error"),
    ],
)
def test_bad_input_is_422_and_creates_nothing(
    client: TestClient, factory: Factory, now: datetime, body: dict[str, object], code: str
) -> None:
    response = client.post("/api/v1/api-keys", json=body, headers=_admin(factory, now))
    assert (response.status_code, response.json()["code"]) == (422, code)
    assert response.headers["content-type"] == "application/problem+json"
    with factory() as session:
        assert len(session.scalars(select(ApiKey)).all()) == 1


def test_only_unrestricted_admin_keys_manage_keys(
    client: TestClient, factory: Factory, now: datetime
) -> None:
    admin = _admin(factory, now)
    brand = _brand(client, admin, "あかね")
    body = {"name": "x", "scopes": ["admin"]}
    assert client.post("/api/v1/api-keys", json=body).status_code == 401
    writer = client.post("/api/v1/api-keys", json={"name": "w", "scopes": ["write"]}, headers=admin).json()
    assert (
        client.post("/api/v1/api-keys", json=body, headers=_bearer(writer["key"])).json()["code"]
        == "forbidden"
    )
    limited = _admin(factory, now, [brand])
    escalation = client.post("/api/v1/api-keys", json=body, headers=limited)
    assert (escalation.status_code, escalation.json()["code"]) == (403, "brand_forbidden")


def test_expired_keys_get_401(client: TestClient, factory: Factory, now: datetime) -> None:
    with transaction(factory) as session:
        _, expired = create_api_key(session, "old", ["read"], now, expires_at=now)
        _, valid = create_api_key(session, "new", ["read"], now, expires_at=now + timedelta(seconds=1))
    assert client.get("/api/v1/brands", headers=_bearer(expired)).status_code == 401
    assert client.get("/api/v1/brands", headers=_bearer(valid)).status_code == 200


def test_last_used_is_written_at_most_once_a_minute(factory: Factory, now: datetime) -> None:
    with transaction(factory) as session:
        key, secret = create_api_key(session, "poller", ["read"], now)

    def used_at(at: datetime) -> datetime | None:
        with factory() as session:
            assert authenticate(session, secret, at) is not None
        with factory() as session:
            return session.get(ApiKey, key.id).last_used_at  # type: ignore[union-attr]

    assert used_at(now) == now
    assert used_at(now + timedelta(seconds=59)) == now  # no write within the minute
    assert used_at(now + timedelta(seconds=61)) == now + timedelta(seconds=61)
    with factory() as session:
        assert authenticate(session, secret[:-1] + ("A" if secret[-1] != "A" else "B"), now) is None


def test_idempotent_replay_never_returns_the_key(client: TestClient, factory: Factory, now: datetime) -> None:
    headers = {**_admin(factory, now), "Idempotency-Key": "create-ci-key"}
    body = {"name": "ci", "scopes": ["ingest"]}
    first = client.post("/api/v1/api-keys", json=body, headers=headers).json()
    replay = client.post("/api/v1/api-keys", json=body, headers=headers)
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == {**first, "key": None, "key_shown": False}
    with factory() as session:
        assert len(session.scalars(select(ApiKey)).all()) == 2
        from storage.idempotency import IdempotencyRecord

        stored = session.scalars(select(IdempotencyRecord.response_body)).one()
        assert first["key"] not in (stored or "") and first["key"].split("_", 2)[2] not in (stored or "")


def test_cli_lists_and_revokes_keys(db_url: str, factory: Factory, now: datetime, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NOROSHI_DATABASE_URL", db_url)
    with transaction(factory) as session:
        key, secret = create_api_key(session, "pr-desk", ["read", "write"], now, brand_ids=[3, 1])
    runner = CliRunner()
    listed = runner.invoke(cli_app, ["keys", "list"])
    assert listed.exit_code == 0, listed.output
    row = listed.output.splitlines()[1].split("\t")
    assert row[:5] == [str(key.id), "pr-desk", key.prefix, "read,write", "1,3"]
    assert secret.split("_", 2)[2] not in listed.output and key.key_hash not in listed.output
    revoked = runner.invoke(cli_app, ["keys", "revoke", str(key.id)])
    assert revoked.exit_code == 0 and f"key {key.id} revoked" in revoked.output
    assert runner.invoke(cli_app, ["keys", "list"]).output.count("\n") == 1  # header only
    assert "pr-desk" in runner.invoke(cli_app, ["keys", "list", "--all"]).output
    missing = runner.invoke(cli_app, ["keys", "revoke", "999"])
    assert missing.exit_code == 2 and "no API key with id 999" in missing.output
    with factory() as session:
        assert authenticate(session, secret, now) is None
