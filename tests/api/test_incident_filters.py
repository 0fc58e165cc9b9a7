"""GET /api/v1/incidents filters: brand, status, severity, kind, since/until (on started_at), together
with the cursor; unknown filter values are a 422 naming the parameter."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from storage.incidents import Incident
from tests.helpers import add_brand

HOUR = timedelta(hours=1)


def _incident(brand_id: int, at: datetime, **fields: object) -> Incident:
    values: dict[str, object] = {
        "kind": "volume",
        "status": "triggered",
        "severity": "warning",
        "dedup_key": f"{brand_id}:{at.isoformat()}",
        "started_at": at,
        "last_signal_at": at,
        "score": 6.0,
        "peak_score": 6.0,
        "observed": 80.0,
        "expected": 20.0,
        "upper": 40.0,
        "test": "nb_tail_1h",
        "evidence": {},
        "created_at": at,
        "updated_at": at,
        **fields,
    }
    return Incident(brand_id=brand_id, **values)


def _seed(factory: sessionmaker[Session], now: datetime) -> dict[str, int]:
    """Six incidents an hour apart across two brands; returns ids by name."""
    with factory() as session, session.begin():
        a = add_brand(session, "A", ["a"], now).id
        b = add_brand(session, "B", ["b"], now).id
        rows = {
            "a_old_flame": _incident(a, now - 6 * HOUR, severity="flame", status="resolved"),
            "a_neg": _incident(a, now - 5 * HOUR, kind="negativity", severity="attention"),
            "b_ack": _incident(b, now - 4 * HOUR, status="acknowledged"),
            "a_flame": _incident(a, now - 3 * HOUR, severity="flame"),
            "b_snoozed": _incident(b, now - 2 * HOUR, status="snoozed", kind="negativity"),
            "a_new": _incident(a, now - 1 * HOUR),
        }
        session.add_all(rows.values())
        session.flush()
        return {name: row.id for name, row in rows.items()} | {"a": a, "b": b}


def _ids(client: TestClient, headers: dict[str, str], **params: object) -> list[int]:
    response = client.get("/api/v1/incidents", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_each_filter_and_their_combination(client: TestClient, make_key, factory, now) -> None:  # type: ignore[no-untyped-def]
    ids, auth = _seed(factory, now), make_key("read")
    assert _ids(client, auth, severity="flame") == [ids["a_flame"], ids["a_old_flame"]]
    assert _ids(client, auth, kind="negativity") == [ids["b_snoozed"], ids["a_neg"]]
    assert _ids(client, auth, status="snoozed") == [ids["b_snoozed"]]
    assert _ids(client, auth, brand_id=ids["b"]) == [ids["b_snoozed"], ids["b_ack"]]
    # since is inclusive, until exclusive, both on started_at
    window = {"since": (now - 4 * HOUR).isoformat(), "until": (now - 2 * HOUR).isoformat()}
    assert _ids(client, auth, **window) == [ids["a_flame"], ids["b_ack"]]
    both = _ids(client, auth, brand_id=ids["a"], severity="flame", since=(now - 4 * HOUR).isoformat())
    assert both == [ids["a_flame"]]


def test_filters_hold_across_pages(client: TestClient, make_key, factory, now) -> None:  # type: ignore[no-untyped-def]
    ids, auth = _seed(factory, now), make_key("read")
    first = client.get("/api/v1/incidents", params={"brand_id": ids["a"], "limit": 2}, headers=auth).json()
    assert [i["id"] for i in first["items"]] == [ids["a_new"], ids["a_flame"]]
    params = {"brand_id": ids["a"], "limit": 2, "cursor": first["next_cursor"]}
    second = client.get("/api/v1/incidents", params=params, headers=auth).json()
    assert [i["id"] for i in second["items"]] == [ids["a_neg"], ids["a_old_flame"]]
    assert second["next_cursor"] is None


def test_unknown_values_and_naive_times_are_422_naming_the_parameter(  # type: ignore[no-untyped-def]
    client: TestClient, make_key, factory, now
) -> None:
    _seed(factory, now)
    auth = make_key("read")
    for params, field in (
        ({"severity": "huge"}, "severity"),
        ({"status": "open"}, "status"),
        ({"kind": "sentiment"}, "kind"),
        ({"since": "2026-11-21T05:00:00"}, "since"),
    ):
        response = client.get("/api/v1/incidents", params=params, headers=auth)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in response.json()["detail"]
