"""DELETE /api/v1/brands/{id} (guarded by ?confirm=true) and the paged brand list — on SQLite and
PostgreSQL: deletion removes only the brand's own rows and keeps every stored mention."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.auth import create_api_key
from storage.api_keys import ApiKey
from storage.incidents import Incident
from storage.mentions import Bucket, Mention, MentionBrand
from storage.muting import Silence
from tests.api.test_brand_limits import add_incident

Factory = sessionmaker[Session]


def _brand(client: TestClient, headers: dict[str, str], name: str) -> int:
    response = client.post("/api/v1/brands", json={"name": name, "keywords": [name]}, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _push(client: TestClient, headers: dict[str, str], now: datetime, texts: dict[str, str]) -> dict:  # type: ignore[type-arg]
    posted = (now - timedelta(minutes=5)).isoformat()
    mentions = [{"id": i, "posted_at": posted, "text": t, "author": i} for i, t in texts.items()]
    response = client.post("/api/v1/mentions", json={"source": "push", "mentions": mentions}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _count(factory: Factory, column: object, brand_id: int | None = None) -> int:
    query = select(func.count()).select_from(column.class_)  # type: ignore[attr-defined]
    if brand_id is not None:
        query = query.where(column == brand_id)  # type: ignore[arg-type]
    with factory() as session:
        return int(session.scalar(query) or 0)


def test_delete_needs_confirmation_then_removes_only_that_brand(
    client: TestClient,
    make_key,
    factory: Factory,
    now: datetime,  # type: ignore[no-untyped-def]
) -> None:
    writer = make_key("read", "write", "ingest")
    gone, kept = _brand(client, writer, "あかね"), _brand(client, writer, "みどり")
    _push(client, writer, now, {"a": "あかね 最高", "b": "みどり 最高", "ab": "あかね と みどり"})
    gone_incident, kept_incident = add_incident(factory, now, gone), add_incident(factory, now, kept)
    silence = {"brand_id": gone, "ends_at": (now + timedelta(hours=1)).isoformat(), "reason": "x"}
    assert client.post("/api/v1/silences", json=silence, headers=writer).status_code == 201
    kept_buckets, kept_links = (
        _count(factory, Bucket.brand_id, kept),
        _count(factory, MentionBrand.brand_id, kept),
    )

    refused = client.delete(f"/api/v1/brands/{gone}", headers=writer)
    assert (refused.status_code, refused.json()["code"]) == (409, "confirmation_required")
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["would_delete"]["incidents"] == 1
    assert refused.json()["would_delete"]["mention_links"] == 2
    assert client.get(f"/api/v1/brands/{gone}", headers=writer).status_code == 200

    assert (
        client.delete(f"/api/v1/brands/{gone}", params={"confirm": "true"}, headers=writer).status_code == 204
    )
    assert client.get(f"/api/v1/brands/{gone}", headers=writer).status_code == 404
    assert client.get(f"/api/v1/incidents/{gone_incident}", headers=writer).status_code == 404
    assert (
        client.delete(f"/api/v1/brands/{gone}", params={"confirm": "true"}, headers=writer).status_code == 404
    )
    for column in (Bucket.brand_id, MentionBrand.brand_id, Incident.brand_id, Silence.brand_id):
        assert _count(factory, column, gone) == 0, column
    # Every stored mention stays; the other brand keeps its links, buckets and incident.
    assert _count(factory, Mention.id) == 3
    assert (_count(factory, Bucket.brand_id, kept), _count(factory, MentionBrand.brand_id, kept)) == (
        kept_buckets,
        kept_links,
    )
    assert client.get(f"/api/v1/incidents/{kept_incident}", headers=writer).status_code == 200
    listed = client.get("/api/v1/mentions", params={"brand_id": kept}, headers=writer).json()["items"]
    assert sorted(m["external_id"] for m in listed) == ["ab", "b"]
    # Matching forgets the brand at once: its keyword no longer matches, the other one still does.
    after = _push(client, writer, now, {"c": "あかね 再び", "d": "みどり 再び"})
    assert [r["status"] for r in after["results"]] == ["unmatched", "stored"]


def test_delete_is_scoped_like_creation(
    client: TestClient,
    make_key,
    factory: Factory,
    now: datetime,  # type: ignore[no-untyped-def]
) -> None:
    writer, reader = make_key("read", "write"), make_key("read")
    brand = _brand(client, writer, "あかね")
    with factory() as session, session.begin():
        _, secret = create_api_key(session, "limited", ["read", "write"], now, brand_ids=[brand])
    limited = {"Authorization": f"Bearer {secret}"}
    path, confirm = f"/api/v1/brands/{brand}", {"confirm": "true"}
    assert client.delete(path, params=confirm).status_code == 401
    assert client.delete(path, params=confirm, headers=reader).json()["code"] == "forbidden"
    assert client.delete(path, params=confirm, headers=limited).json()["code"] == "brand_forbidden"
    assert client.delete(path, params={"confirm": "perhaps"}, headers=writer).status_code == 422
    assert client.delete("/api/v1/brands/999999", params=confirm, headers=writer).status_code == 404
    assert client.get(path, headers=reader).status_code == 200  # nothing above deleted it


def test_brand_list_pages_newest_first_within_the_keys_brands(
    client: TestClient,
    make_key,
    factory: Factory,
    now: datetime,  # type: ignore[no-untyped-def]
) -> None:
    admin = make_key("admin")
    ids = [_brand(client, admin, f"brand{n}") for n in range(5)]
    with factory() as session, session.begin():
        _, secret = create_api_key(session, "limited", ["read"], now, brand_ids=ids[1:4])
    limited = {"Authorization": f"Bearer {secret}"}
    for headers, expected in ((admin, ids), (limited, ids[1:4])):
        seen: list[int] = []
        cursor = None
        for _ in range(5):
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/brands", params=params, headers=headers).json()
            assert len(page["items"]) <= 2
            seen += [b["id"] for b in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(expected, reverse=True)
    assert client.get("/api/v1/brands", params={"limit": 0}, headers=admin).status_code == 422
    bad = client.get("/api/v1/brands", params={"cursor": "WyJ4Il0"}, headers=admin)  # ["x"]
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_cursor")


def test_keys_limited_to_a_deleted_brand_do_not_inherit_its_id(
    client: TestClient,
    make_key,
    factory: Factory,
    now: datetime,  # type: ignore[no-untyped-def]
) -> None:
    writer = make_key("read", "write")
    kept, gone = _brand(client, writer, "みどり"), _brand(client, writer, "あかね")
    with factory() as session, session.begin():
        only_gone, gone_secret = create_api_key(session, "gone", ["read"], now, brand_ids=[gone])
        both, _ = create_api_key(session, "both", ["read"], now, brand_ids=[kept, gone])
        only_gone_id, both_id = only_gone.id, both.id
    limited = {"Authorization": f"Bearer {gone_secret}"}
    assert (
        client.delete(f"/api/v1/brands/{gone}", params={"confirm": "true"}, headers=writer).status_code == 204
    )
    with factory() as session:
        assert session.get(ApiKey, only_gone_id).brand_ids == []  # type: ignore[union-attr]
        assert session.get(ApiKey, both_id).brand_ids == [kept]  # type: ignore[union-attr]
    # Whatever id the next brand gets (SQLite may reuse the deleted one), the emptied key sees nothing.
    newcomer = _brand(client, writer, "あおい")
    assert client.get("/api/v1/brands", headers=limited).json()["items"] == []
    assert client.get(f"/api/v1/brands/{newcomer}", headers=limited).json()["code"] == "brand_forbidden"
