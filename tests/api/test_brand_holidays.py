"""A brand's holiday calendar: its timezone's country by default, settable, checked, used by the tick."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from alerting.tick import _plan
from storage.brands import Brand

BRAND = {"name": "ノロシ珈琲", "keywords": ["ノロシ珈琲", "Noroshi Coffee"]}


def _create(client: TestClient, headers: dict[str, str], **fields: object):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/brands", json={**BRAND, **fields}, headers=headers)


def test_the_calendar_follows_the_timezone_unless_given(client: TestClient, make_key) -> None:  # type: ignore[no-untyped-def]
    writer = make_key("read", "write")
    cases = [
        ({}, "JP"),  # Asia/Tokyo, the default timezone
        ({"timezone": "America/New_York"}, "US"),
        ({"timezone": "UTC"}, None),
        ({"timezone": "Asia/Tokyo", "holidays": "us"}, "US"),
        ({"holidays": "none"}, None),
        ({"holidays": None}, None),
    ]
    for k, (fields, expected) in enumerate(cases):
        response = _create(client, writer, name=f"brand {k}", **fields)
        assert response.status_code == 201, (fields, response.text)
        assert response.json()["holidays"] == expected, fields


def test_an_unknown_calendar_is_refused_and_nothing_changes(client: TestClient, make_key) -> None:  # type: ignore[no-untyped-def]
    writer = make_key("read", "write")
    refused = _create(client, writer, holidays="Japan")
    assert refused.status_code == 422
    assert "unknown holiday calendar 'Japan'" in refused.text
    brand = _create(client, writer).json()
    path = f"/api/v1/brands/{brand['id']}"
    assert client.patch(path, json={"holidays": "XX"}, headers=writer).status_code == 422
    assert client.get(path, headers=writer).json()["holidays"] == "JP"
    cleared = client.patch(path, json={"holidays": "none"}, headers=writer)
    assert cleared.status_code == 200 and cleared.json()["holidays"] is None
    again = client.patch(path, json={"holidays": "auto"}, headers=writer)
    assert again.status_code == 200 and again.json()["holidays"] == "JP"


def test_the_tick_gives_the_detector_the_brand_calendar(factory: sessionmaker[Session]) -> None:
    now = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    with factory() as session, session.begin():
        for name, calendar in (("tokyo", "JP"), ("plain", None)):
            session.add(Brand(name=name, keywords=[name], holidays=calendar, created_at=now, updated_at=now))
    with factory() as session:
        brands = list(session.query(Brand).order_by(Brand.name))
        configs = {plan.brand.name: plan.config for plan in _plan(session, brands, now)}
    assert configs["tokyo"].holidays == "JP" and configs["plain"].holidays is None
