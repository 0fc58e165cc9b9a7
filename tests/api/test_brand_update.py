"""PATCH /api/v1/brands/{id}: change what is watched and how sensitively, checked like a new brand."""

from __future__ import annotations

from fastapi.testclient import TestClient

BRAND = {"name": "ノロシ珈琲", "keywords": ["ノロシ珈琲", "Noroshi Coffee"], "timezone": "Asia/Tokyo"}


def _create(client: TestClient, headers: dict[str, str], **fields: object) -> dict[str, object]:
    response = client.post("/api/v1/brands", json={**BRAND, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_patch_changes_only_the_given_fields_and_is_stored(client: TestClient, make_key) -> None:  # type: ignore[no-untyped-def]
    writer = make_key("read", "write")
    brand = _create(client, writer)
    change = {"keywords": ["ノロシ珈琲", "のろしコーヒー"], "sensitivity": "high", "exclude": None}
    response = client.patch(f"/api/v1/brands/{brand['id']}", json=change, headers=writer)
    assert response.status_code == 200, response.text
    stored = client.get(f"/api/v1/brands/{brand['id']}", headers=writer).json()
    assert stored["keywords"] == ["ノロシ珈琲", "のろしコーヒー"] and stored["sensitivity"] == "high"
    unchanged = ("name", "exclude", "languages", "timezone", "bucket_minutes", "locale", "created_at")
    assert {k: stored[k] for k in unchanged} == {k: brand[k] for k in unchanged}


def test_patch_is_validated_scoped_and_honest_about_missing_brands(client: TestClient, make_key) -> None:  # type: ignore[no-untyped-def]
    writer, reader = make_key("read", "write"), make_key("read")
    brand = _create(client, writer)
    other = _create(client, writer, name="Other")
    path = f"/api/v1/brands/{brand['id']}"
    cases = [
        ({"keywords": []}, 422, "keywords"),
        ({"sensitivity": "extreme"}, 422, "sensitivity"),
        ({"timezone": "Europe/Paris"}, 422, "timezone"),  # fixed at creation
        ({"name": other["name"]}, 409, "brand_exists"),
        ({"name": "   "}, 422, "name must not be blank"),
    ]
    for body, status, mentions in cases:
        response = client.patch(path, json=body, headers=writer)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert mentions in response.text
    assert client.patch(path, json={"sensitivity": "low"}, headers=reader).status_code == 403
    assert (
        client.patch("/api/v1/brands/999999", json={"sensitivity": "low"}, headers=writer).status_code == 404
    )
    # nothing above changed the brand
    assert client.get(path, headers=reader).json()["keywords"] == BRAND["keywords"]
    assert client.get(path, headers=reader).json()["name"] == brand["name"]
