"""The alerting endpoints of /api/v1 against a real migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerting.channels.webhook import SubscriptionStore
from alerting.notify import Notifier, NotifyConfig
from alerting.summary import build_incident_context
from alerting.webhook_signing import PREFIX, WebhookVerificationError, signed_headers, verify
from storage.engine import transaction
from storage.models import Incident, IncidentEvent
from storage.muting import RunbookOverride, Silence
from storage.notifications import Notification, WebhookSubscription
from tests.helpers import add_brand

Factory = sessionmaker[Session]


@pytest.fixture
def brand_id(factory: Factory, now: datetime) -> int:
    with transaction(factory) as session:
        return add_brand(session, "さくら食品", ["さくら食品"], now).id


@pytest.fixture
def incident_id(factory: Factory, now: datetime, brand_id: int) -> int:
    """An open 炎上 volume incident that nobody has been told about yet."""
    with transaction(factory) as session:
        incident = Incident(
            brand_id=brand_id,
            kind="volume",
            dedup_key=f"brand:{brand_id}:volume",
            status="triggered",
            severity="flame",
            started_at=now - timedelta(minutes=10),
            last_signal_at=now - timedelta(minutes=5),
            score=9.0,
            peak_score=9.0,
            observed=240.0,
            expected=30.0,
            upper=60.0,
            negative_share=0.6,
            baseline_share=0.1,
            test="nb_tail_1h",
            evidence={},
            created_at=now,
            updated_at=now,
        )
        session.add(incident)
        session.flush()
        session.add(
            IncidentEvent(incident_id=incident.id, at=now, event="opened", actor="noroshi", detail={})
        )
        return incident.id


def _key(factory: Factory, now: datetime, name: str, *scopes: str) -> dict[str, str]:
    from api.auth import create_api_key

    with transaction(factory) as session:
        _, secret = create_api_key(session, name, list(scopes), now)
    return {"Authorization": f"Bearer {secret}"}


def _outbox(factory: Factory, incident_id: int) -> list[tuple[str, str, str]]:
    with factory() as session:
        rows = session.scalars(
            select(Notification).where(Notification.incident_id == incident_id).order_by(Notification.id)
        )
        return [(n.channel, n.target, n.event) for n in rows]


# -- incident actions -------------------------------------------------------------------------------


def test_acknowledge_writes_timeline_with_key_name_and_no_outbox_when_nobody_was_told(
    client: TestClient, factory: Factory, now: datetime, incident_id: int
) -> None:
    headers = _key(factory, now, "pr-desk", "write")
    response = client.post(
        f"/api/v1/incidents/{incident_id}/acknowledge", headers=headers, json={"note": "見ます"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["incident"]["status"] == "acknowledged"
    assert body["event"]["actor"] == "api:pr-desk"
    assert body["event"]["note"] == "見ます"
    assert body["notifications_enqueued"] == 0
    assert _outbox(factory, incident_id) == []
    with factory() as session:
        events = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)).all()
        assert [(e.event, e.actor) for e in events][-1][1] == "api:pr-desk"


def test_acknowledge_notifies_a_channel_told_earlier(
    client: TestClient, factory: Factory, now: datetime, incident_id: int, brand_id: int
) -> None:
    admin = _key(factory, now, "ops", "admin")
    route = client.post(
        "/api/v1/notification-routes",
        headers=admin,
        json={"channel": "slack", "target": "C-PR", "brand_id": brand_id},
    )
    assert route.status_code == 201, route.text
    # The detection tick's planner tells the route about the incident (the first Slack card).
    with transaction(factory) as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        Notifier(build_incident_context, NotifyConfig("http://noroshi.test")).plan(session, incident, now)
    assert _outbox(factory, incident_id) == [("slack", "C-PR", "triggered")]
    response = client.post(f"/api/v1/incidents/{incident_id}/acknowledge", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["notifications_enqueued"] == 1
    assert _outbox(factory, incident_id) == [
        ("slack", "C-PR", "triggered"),
        ("slack", "C-PR", "acknowledged"),
    ]


def test_resolve_then_acknowledge_is_a_409(
    client: TestClient,
    make_key,
    incident_id: int,  # type: ignore[no-untyped-def]
) -> None:
    headers = make_key("write")
    assert client.post(f"/api/v1/incidents/{incident_id}/resolve", headers=headers).status_code == 200
    again = client.post(f"/api/v1/incidents/{incident_id}/acknowledge", headers=headers)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["code"] == "invalid_transition"


def test_snooze_by_minutes_and_until(
    client: TestClient,
    make_key,
    now: datetime,
    incident_id: int,  # type: ignore[no-untyped-def]
) -> None:
    headers = make_key("write")
    response = client.post(f"/api/v1/incidents/{incident_id}/snooze", headers=headers, json={"minutes": 90})
    assert response.status_code == 200, response.text
    assert response.json()["incident"]["status"] == "snoozed"
    assert datetime.fromisoformat(response.json()["event"]["detail"]["until"]) == now + timedelta(minutes=90)
    # Snoozed → snoozed is not a transition the table allows.
    until = (now + timedelta(hours=3)).isoformat()
    assert (
        client.post(f"/api/v1/incidents/{incident_id}/snooze", headers=headers, json={"until": until}).json()[
            "code"
        ]
        == "invalid_transition"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"until": "2026-11-21T09:00:00"}, "until"),  # no timezone
        ({}, "body"),  # neither until nor minutes
        ({"minutes": 0}, "minutes"),
    ],
)
def test_snooze_bad_input_is_422_naming_the_field(
    client: TestClient,
    make_key,
    incident_id: int,
    body: dict[str, object],
    field: str,  # type: ignore[no-untyped-def]
) -> None:
    response = client.post(f"/api/v1/incidents/{incident_id}/snooze", headers=make_key("write"), json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert any(e["field"] == field for e in response.json()["errors"])


def test_snooze_until_in_the_past_is_422_from_the_action_layer(
    client: TestClient,
    make_key,
    now: datetime,
    incident_id: int,  # type: ignore[no-untyped-def]
) -> None:
    past = (now - timedelta(minutes=1)).isoformat()
    response = client.post(
        f"/api/v1/incidents/{incident_id}/snooze", headers=make_key("write"), json={"until": past}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "until"
    assert "future" in response.json()["detail"]


def test_comment_and_timeline_newest_first_with_pagination(
    client: TestClient, factory: Factory, now: datetime, incident_id: int
) -> None:
    headers = _key(factory, now, "support", "read", "write")
    for text in ("first", "second"):
        response = client.post(
            f"/api/v1/incidents/{incident_id}/comment", headers=headers, json={"text": text}
        )
        assert response.status_code == 200, response.text
    blank = client.post(f"/api/v1/incidents/{incident_id}/comment", headers=headers, json={"text": "   "})
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "text"
    page = client.get(f"/api/v1/incidents/{incident_id}/timeline?limit=2", headers=headers)
    assert page.status_code == 200
    items = page.json()["items"]
    assert [(e["event"], e["note"], e["actor"]) for e in items] == [
        ("comment", "second", "api:support"),
        ("comment", "first", "api:support"),
    ]
    rest = client.get(
        f"/api/v1/incidents/{incident_id}/timeline",
        headers=headers,
        params={"cursor": page.json()["next_cursor"]},
    )
    assert [e["event"] for e in rest.json()["items"]] == ["opened"]
    assert rest.json()["next_cursor"] is None


def test_actions_unknown_incident_is_404_and_need_write_scope(
    client: TestClient,
    make_key,
    incident_id: int,  # type: ignore[no-untyped-def]
) -> None:
    missing = client.post("/api/v1/incidents/999999/acknowledge", headers=make_key("write"))
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert client.get("/api/v1/incidents/999999/timeline", headers=make_key("read")).status_code == 404
    assert client.post(f"/api/v1/incidents/{incident_id}/resolve").status_code == 401
    read_only = client.post(f"/api/v1/incidents/{incident_id}/resolve", headers=make_key("read"))
    assert read_only.status_code == 403 and read_only.json()["code"] == "forbidden"


# -- silences and campaign windows ------------------------------------------------------------------


def test_silence_create_list_and_expire(
    client: TestClient, factory: Factory, now: datetime, brand_id: int
) -> None:
    headers = _key(factory, now, "night-shift", "read", "write")
    body = {
        "brand_id": brand_id,
        "kind": "volume",
        "max_severity": "warning",
        "ends_at": (now + timedelta(hours=2)).isoformat(),
        "reason": "collector maintenance",
    }
    created = client.post("/api/v1/silences", headers=headers, json=body)
    assert created.status_code == 201, created.text
    silence = created.json()
    assert silence["created_by"] == "night-shift"
    assert datetime.fromisoformat(silence["starts_at"]) == now
    active = client.get("/api/v1/silences?active=true", headers=headers).json()["items"]
    assert [s["id"] for s in active] == [silence["id"]]
    assert client.delete(f"/api/v1/silences/{silence['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/silences?active=true", headers=headers).json()["items"] == []
    with factory() as session:  # expired, not deleted: the record of who muted what stays
        row = session.get(Silence, silence["id"])
        assert row is not None and row.ends_at == now
    assert client.delete("/api/v1/silences/999999", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"ends_at": "2026-11-21T05:00:00Z"}, "invalid_window", "ends_at"),  # before now (06:00Z)
        (
            {"starts_at": "2026-11-21T09:00:00Z", "ends_at": "2026-11-21T08:00:00Z"},
            "invalid_window",
            "ends_at",
        ),
        ({"ends_at": "2026-11-21T08:00:00"}, "validation_error", "ends_at"),  # naive
        ({"brand_id": 999999}, "unknown_brand", "brand_id"),
        ({"max_severity": "huge"}, "validation_error", "max_severity"),
        ({"kind": "rumour"}, "validation_error", "kind"),
    ],
)
def test_silence_bad_input(
    client: TestClient,
    make_key,
    change: dict[str, object],
    code: str,
    field: str,  # type: ignore[no-untyped-def]
) -> None:
    body = {"ends_at": "2026-11-21T08:00:00Z", "reason": "why", **change}
    response = client.post("/api/v1/silences", headers=make_key("write"), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert any(e["field"] == field for e in response.json()["errors"])
    assert field in response.json()["detail"]


def test_campaign_window_lifecycle_and_scopes(
    client: TestClient,
    make_key,
    now: datetime,
    brand_id: int,  # type: ignore[no-untyped-def]
) -> None:
    body = {
        "brand_id": brand_id,
        "name": "新商品ローンチ",
        "starts_at": (now + timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=2)).isoformat(),
    }
    assert client.post("/api/v1/campaign-windows", json=body).status_code == 401
    assert client.post("/api/v1/campaign-windows", headers=make_key("read"), json=body).status_code == 403
    created = client.post("/api/v1/campaign-windows", headers=make_key("write"), json=body)
    assert created.status_code == 201, created.text
    listed = client.get(f"/api/v1/campaign-windows?brand_id={brand_id}", headers=make_key("read")).json()
    assert [w["name"] for w in listed["items"]] == ["新商品ローンチ"]
    missing_brand = client.post(
        "/api/v1/campaign-windows", headers=make_key("write"), json={**body, "brand_id": 999}
    )
    assert missing_brand.json()["code"] == "unknown_brand"
    # Not started yet: removed outright.
    assert (
        client.delete(
            f"/api/v1/campaign-windows/{created.json()['id']}", headers=make_key("write")
        ).status_code
        == 204
    )
    assert client.get("/api/v1/campaign-windows", headers=make_key("read")).json()["items"] == []


# -- notification routes ----------------------------------------------------------------------------


def test_routes_create_list_delete_and_validation(client: TestClient, make_key) -> None:  # type: ignore[no-untyped-def]
    admin = make_key("admin")
    body = {"channel": "email", "target": "crisis@example.jp", "min_severity": "flame", "delay_minutes": 30}
    assert client.post("/api/v1/notification-routes", headers=make_key("write"), json=body).status_code == 403
    created = client.post(
        "/api/v1/notification-routes", headers=admin, json={**body, "kinds": ["negativity"]}
    )
    assert created.status_code == 201, created.text
    assert created.json()["kinds"] == ["negativity"]
    for bad, field in (
        ({"channel": "fax"}, "channel"),
        ({"min_severity": "meh"}, "min_severity"),
        ({"kinds": ["x"]}, "kinds.0"),
    ):
        response = client.post("/api/v1/notification-routes", headers=admin, json={**body, **bad})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field
    listed = client.get("/api/v1/notification-routes", headers=make_key("read")).json()["items"]
    assert [r["target"] for r in listed] == ["crisis@example.jp"]
    assert (
        client.delete(f"/api/v1/notification-routes/{created.json()['id']}", headers=admin).status_code == 204
    )
    assert (
        client.delete(f"/api/v1/notification-routes/{created.json()['id']}", headers=admin).status_code == 404
    )


def test_lists_paginate_with_cursor(client: TestClient, make_key) -> None:  # type: ignore[no-untyped-def]
    admin = make_key("admin")
    for n in range(3):
        client.post(
            "/api/v1/notification-routes", headers=admin, json={"channel": "slack", "target": f"C{n}"}
        )
    first = client.get("/api/v1/notification-routes?limit=2", headers=admin).json()
    second = client.get(
        "/api/v1/notification-routes", headers=admin, params={"limit": 2, "cursor": first["next_cursor"]}
    )
    assert [r["target"] for r in first["items"]] + [r["target"] for r in second.json()["items"]] == [
        "C2",
        "C1",
        "C0",
    ]
    bad = client.get("/api/v1/notification-routes", headers=admin, params={"cursor": "nonsense!"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"


# -- webhooks ---------------------------------------------------------------------------------------


def _signed_by(store: SubscriptionStore, webhook_id: int, now: datetime) -> dict[str, str]:
    target = store.resolve(str(webhook_id), now)
    assert target is not None
    return signed_headers(target.secrets, "msg_1", int(now.timestamp()), b'{"type":"incident.triggered"}')


def test_webhook_secret_shown_once_and_rotation_keeps_both_valid(
    client: TestClient,
    make_key,
    factory: Factory,
    now: datetime,  # type: ignore[no-untyped-def]
) -> None:
    admin = make_key("admin")
    created = client.post(
        "/api/v1/webhooks", headers=admin, json={"url": "https://hooks.example.jp/n", "events": ["triggered"]}
    )
    assert created.status_code == 201, created.text
    old_secret, webhook_id = created.json()["secret"], created.json()["id"]
    assert old_secret.startswith(PREFIX)
    listed = client.get("/api/v1/webhooks", headers=admin)
    assert old_secret not in listed.text and "secret" not in listed.json()["items"][0]
    rotated = client.post(f"/api/v1/webhooks/{webhook_id}/rotate-secret", headers=admin)
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != old_secret and new_secret.startswith(PREFIX)
    assert datetime.fromisoformat(rotated.json()["previous_secret_expires_at"]) == now + timedelta(hours=24)
    assert new_secret not in client.get("/api/v1/webhooks", headers=admin).text
    # What the sender signs now verifies with either secret; after the grace period only the new one.
    store = SubscriptionStore(factory)
    body = b'{"type":"incident.triggered"}'
    headers = _signed_by(store, webhook_id, now)
    assert verify(old_secret, headers, body, now) == "msg_1"
    assert verify(new_secret, headers, body, now) == "msg_1"
    later = now + timedelta(hours=25)
    late_headers = _signed_by(store, webhook_id, later)
    assert verify(new_secret, late_headers, body, later) == "msg_1"
    with pytest.raises(WebhookVerificationError):
        verify(old_secret, late_headers, body, later)


def test_webhook_validation_scopes_and_delete(
    client: TestClient,
    make_key,
    factory: Factory,  # type: ignore[no-untyped-def]
) -> None:
    admin = make_key("admin")
    assert client.get("/api/v1/webhooks", headers=make_key("read")).status_code == 403
    assert client.post("/api/v1/webhooks", json={"url": "https://x.example"}).status_code == 401
    for bad, field in (
        ({"url": "ftp://x.example"}, "url"),
        ({"url": "https://x.example", "events": ["boom"]}, "events.0"),
    ):
        response = client.post("/api/v1/webhooks", headers=admin, json=bad)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field
    assert client.post("/api/v1/webhooks/999999/rotate-secret", headers=admin).status_code == 404
    created = client.post("/api/v1/webhooks", headers=admin, json={"url": "https://x.example/h"}).json()
    assert client.delete(f"/api/v1/webhooks/{created['id']}", headers=admin).status_code == 204
    with factory() as session:
        assert session.get(WebhookSubscription, created["id"]) is None


# -- runbooks ---------------------------------------------------------------------------------------


def test_runbooks_effective_overrides_and_delete(
    client: TestClient, factory: Factory, now: datetime, brand_id: int
) -> None:
    headers = _key(factory, now, "pr-lead", "read", "write")
    defaults = client.get(f"/api/v1/brands/{brand_id}/runbooks", headers=headers).json()
    assert len(defaults) == 2 * 3 * 2 and {r["source"] for r in defaults} == {"default"}
    template = "# {{ brand }} 対応手順\n\n1. {{ brand }}の広報に連絡する\n"
    put = client.put(
        f"/api/v1/brands/{brand_id}/runbooks/volume",
        headers=headers,
        json={"template": template, "locale": "ja"},
    )
    assert put.status_code == 200, put.text
    assert put.json()["source"] == "override" and put.json()["updated_by"] == "pr-lead"
    effective = {
        (r["kind"], r["severity"], r["locale"]): r
        for r in client.get(f"/api/v1/brands/{brand_id}/runbooks", headers=headers).json()
    }
    overridden = {key for key, r in effective.items() if r["source"] == "override"}
    assert overridden == {("volume", s, "ja") for s in ("attention", "warning", "flame")}
    assert effective[("volume", "flame", "ja")]["template"] == template
    # Replacing is an upsert, not a second row.
    client.put(
        f"/api/v1/brands/{brand_id}/runbooks/volume",
        headers=headers,
        json={"template": "# v2\n", "locale": "ja"},
    )
    with factory() as session:
        assert [o.template for o in session.scalars(select(RunbookOverride))] == ["# v2\n"]
    gone = client.delete(
        f"/api/v1/brands/{brand_id}/runbooks/volume", headers=headers, params={"locale": "ja"}
    )
    assert gone.status_code == 204
    again = client.delete(
        f"/api/v1/brands/{brand_id}/runbooks/volume", headers=headers, params={"locale": "ja"}
    )
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "field"),
    [
        ("volume", {"template": "{% if %}", "locale": "ja"}, 422, "invalid_template", "template"),
        (
            "volume",
            {"template": "{{ no_such_variable }}", "locale": "en"},
            422,
            "invalid_template",
            "template",
        ),
        ("rumour", {"template": "# x", "locale": "en"}, 422, "validation_error", "kind"),
        ("volume", {"template": "# x", "locale": "fr"}, 422, "validation_error", "locale"),
    ],
)
def test_runbook_put_bad_input(
    client: TestClient,
    make_key,
    brand_id: int,
    path: str,
    body: dict[str, str],
    status: int,
    code: str,
    field: str,  # type: ignore[no-untyped-def]
) -> None:
    response = client.put(f"/api/v1/brands/{brand_id}/runbooks/{path}", headers=make_key("write"), json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["errors"][0]["field"] == field


def test_runbooks_unknown_brand_is_404_and_read_scope_cannot_put(
    client: TestClient,
    make_key,
    brand_id: int,  # type: ignore[no-untyped-def]
) -> None:
    assert client.get("/api/v1/brands/999999/runbooks", headers=make_key("read")).status_code == 404
    put = client.put(
        "/api/v1/brands/999999/runbooks/volume",
        headers=make_key("write"),
        json={"template": "# x", "locale": "ja"},
    )
    assert put.status_code == 404
    denied = client.put(
        f"/api/v1/brands/{brand_id}/runbooks/volume",
        headers=make_key("read"),
        json={"template": "# x", "locale": "ja"},
    )
    assert denied.status_code == 403


def test_openapi_lists_the_alerting_routes(client: TestClient) -> None:
    paths = json.loads(client.get("/openapi.json").text)["paths"]
    for path in (
        "/api/v1/incidents/{incident_id}/acknowledge",
        "/api/v1/silences",
        "/api/v1/campaign-windows",
        "/api/v1/notification-routes",
        "/api/v1/webhooks/{webhook_id}/rotate-secret",
        "/api/v1/brands/{brand_id}/runbooks/{kind}",
    ):
        assert path in paths


def test_actions_answer_503_when_the_process_has_no_action_service(
    factory: Factory,
    scorer,
    make_key,
    incident_id: int,
    now: datetime,  # type: ignore[no-untyped-def]
) -> None:
    from api.app import create_app
    from api.context import ApiContext
    from collectors.ingest import MentionIngestor

    context = ApiContext(factory=factory, ingestor=MentionIngestor(scorer), clock=lambda: now)
    with TestClient(create_app(context)) as bare:
        response = bare.post(f"/api/v1/incidents/{incident_id}/acknowledge", headers=make_key("write"))
    assert response.status_code == 503 and response.json()["code"] == "actions_unavailable"
    with factory() as session:  # nothing changed
        incident = session.get(Incident, incident_id)
        assert incident is not None and incident.status == "triggered"
