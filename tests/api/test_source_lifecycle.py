"""GET/PATCH/DELETE /api/v1/sources/{id} and the paged source list: scoped, validated like creation, and
deleting a source keeps the mentions (and buckets) it delivered — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.mentions import Bucket, Mention, MentionBrand
from storage.sources import Source

RSS = {"name": "feed", "kind": "rss", "settings": {"url": "https://news.example/rss"}}


def _source(client: TestClient, headers: dict[str, str], **fields: object) -> dict[str, object]:
    response = client.post("/api/v1/sources", json={**RSS, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_patch_changes_only_the_given_fields(client: TestClient, make_key) -> None:  # type: ignore[no-untyped-def]
    admin = make_key("admin")
    source = _source(client, admin)
    path = f"/api/v1/sources/{source['id']}"
    response = client.patch(
        path, json={"enabled": False, "interval_seconds": 900, "name": None}, headers=admin
    )
    assert response.status_code == 200, response.text
    stored = client.get(path, headers=admin).json()
    assert (stored["enabled"], stored["interval_seconds"]) == (False, 900)
    assert {k: stored[k] for k in ("name", "kind", "settings")} == {
        k: source[k] for k in ("name", "kind", "settings")
    }
    renamed = client.patch(path, json={"name": "ITmedia", "enabled": True}, headers=admin).json()
    assert (renamed["name"], renamed["enabled"]) == ("ITmedia", True)


def test_new_settings_are_validated_for_the_kind_and_restart_collection(
    client: TestClient,
    make_key,
    factory: sessionmaker[Session],
    now: datetime,  # type: ignore[no-untyped-def]
) -> None:
    admin = make_key("admin")
    source = _source(client, admin)
    path = f"/api/v1/sources/{source['id']}"
    with factory() as session, session.begin():
        row = session.get(Source, source["id"])
        assert row is not None
        row.cursor, row.consecutive_failures, row.next_run_at = (
            {"v": 1, "etag": "x"},
            3,
            now + timedelta(hours=1),
        )
    bad = client.patch(path, json={"settings": {"url": "ftp://news.example/rss"}}, headers=admin)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_source")
    assert "url" in bad.json()["detail"]
    # Only the interval: the cursor and the backoff stay.
    client.patch(path, json={"interval_seconds": 60}, headers=admin)
    with factory() as session:
        assert session.get(Source, source["id"]).cursor == {"v": 1, "etag": "x"}  # type: ignore[union-attr]
    moved = client.patch(path, json={"settings": {"url": "https://other.example/feed"}}, headers=admin)
    assert moved.status_code == 200, moved.text
    assert moved.json()["settings"]["url"] == "https://other.example/feed"
    assert moved.json()["consecutive_failures"] == 0
    with factory() as session:
        row = session.get(Source, source["id"])
        assert row is not None and row.cursor is None and row.next_run_at is None


def test_patch_and_delete_errors(client: TestClient, make_key) -> None:  # type: ignore[no-untyped-def]
    admin, writer = make_key("admin"), make_key("read", "write")
    source = _source(client, admin)
    _source(client, admin, name="other")
    path = f"/api/v1/sources/{source['id']}"
    cases = [
        ({"name": "other"}, 409, "source_exists"),
        ({"kind": "push"}, 422, "kind"),  # fixed at creation
        ({"interval_seconds": 0}, 422, "interval_seconds"),
        ({"enabled": "sometimes"}, 422, "enabled"),
    ]
    for body, status, mentions in cases:
        response = client.patch(path, json=body, headers=admin)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert mentions in response.text
    assert client.patch(path, json={"enabled": False}, headers=writer).json()["code"] == "forbidden"
    assert client.delete(path, headers=writer).status_code == 403
    assert client.patch(path, json={"enabled": False}).status_code == 401
    assert client.delete(path).status_code == 401
    assert client.patch("/api/v1/sources/999999", json={"enabled": False}, headers=admin).status_code == 404
    assert client.delete("/api/v1/sources/999999", headers=admin).status_code == 404
    assert client.get(path, headers=admin).json() == source  # nothing above changed it


def _push(client: TestClient, headers: dict[str, str], now: datetime, ids: list[str]) -> None:
    mentions = [
        {
            "id": i,
            "posted_at": (now - timedelta(minutes=5)).isoformat(),
            "text": f"ノロシ珈琲 {i}",
            "author": i,
        }
        for i in ids
    ]
    response = client.post("/api/v1/mentions", json={"source": "push", "mentions": mentions}, headers=headers)
    assert response.status_code == 200 and response.json()["stored"] == len(ids), response.text


def _counts(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with factory() as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Mention, MentionBrand, Bucket)
        )


def test_delete_keeps_the_mentions_and_frees_the_name(
    client: TestClient,
    make_key,
    factory: sessionmaker[Session],
    now: datetime,  # type: ignore[no-untyped-def]
) -> None:
    admin = make_key("admin")
    brand = client.post(
        "/api/v1/brands", json={"name": "ノロシ珈琲", "keywords": ["ノロシ珈琲"]}, headers=admin
    )
    brand_id = brand.json()["id"]
    _push(client, admin, now, ["m1", "m2"])
    push = next(
        s for s in client.get("/api/v1/sources", headers=admin).json()["items"] if s["name"] == "push"
    )
    before = _counts(factory)
    assert before[:2] == (2, 2) and before[2] >= 1

    assert client.delete(f"/api/v1/sources/{push['id']}", headers=admin).status_code == 204
    assert _counts(factory) == before
    listed = client.get("/api/v1/mentions", params={"brand_id": brand_id}, headers=admin).json()["items"]
    assert sorted(m["external_id"] for m in listed) == ["m1", "m2"]
    assert {m["source_id"] for m in listed} == {push["id"]}
    assert client.get(f"/api/v1/sources/{push['id']}", headers=admin).status_code == 404
    assert (
        client.patch(f"/api/v1/sources/{push['id']}", json={"enabled": True}, headers=admin).status_code
        == 404
    )
    assert client.delete(f"/api/v1/sources/{push['id']}", headers=admin).status_code == 404
    assert push["id"] not in [s["id"] for s in client.get("/api/v1/sources", headers=admin).json()["items"]]
    with factory() as session:
        row = session.get(Source, push["id"])
        assert row is not None and not row.enabled and row.deleted_at == now and row.name != "push"
    page = client.get("/")
    assert page.status_code == 200 and row.name not in page.text  # the dashboard's source health

    # The name is free again: the next push creates a new "push" source; the old mentions stay.
    _push(client, admin, now, ["m1", "m3"])
    listed = client.get("/api/v1/mentions", params={"brand_id": brand_id}, headers=admin).json()["items"]
    assert sorted(m["external_id"] for m in listed) == ["m1", "m1", "m2", "m3"]


def test_source_list_pages_newest_first(client: TestClient, make_key) -> None:  # type: ignore[no-untyped-def]
    admin, reader = make_key("admin"), make_key("read")
    ids = [_source(client, admin, name=f"feed-{n}")["id"] for n in range(5)]
    client.delete(f"/api/v1/sources/{ids[2]}", headers=admin)
    seen: list[int] = []
    cursor = None
    for _ in range(5):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/sources", params=params, headers=reader).json()
        assert len(page["items"]) <= 2
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(set(ids) - {ids[2]}, reverse=True)
    assert client.get("/api/v1/sources", params={"limit": 101}, headers=reader).status_code == 422
    bad = client.get("/api/v1/sources", params={"cursor": "nope"}, headers=reader)
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_cursor")
    assert client.get("/api/v1/sources").status_code == 401
