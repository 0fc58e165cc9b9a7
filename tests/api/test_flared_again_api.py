"""The API side of "flared again" (再燃): webhooks can subscribe to it, incidents show their waves."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from alerting.incidents import apply_signal
from storage.notifications import WebhookSubscription
from tests.helpers import add_brand, volume_signal


def test_a_webhook_can_subscribe_to_flared_again(
    client: TestClient, make_key, factory: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    admin = make_key("admin")
    body = {"url": "https://hooks.example.jp/pr", "events": ["flared_again", "triggered"]}
    created = client.post("/api/v1/webhooks", headers=admin, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["events"] == ["flared_again", "triggered"]
    with factory() as session:
        assert session.get(WebhookSubscription, created.json()["id"]).events == ["flared_again", "triggered"]
    typo = client.post("/api/v1/webhooks", headers=admin, json={**body, "events": ["flared"]})
    assert typo.status_code == 422


def test_an_incident_shows_its_waves(
    client: TestClient, make_key, factory: sessionmaker[Session], now: datetime
) -> None:  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        brand = add_brand(session, "さくら食品", ["さくら食品"], now).id
        opened = now - timedelta(hours=3)
        incident, _ = apply_signal(session, brand, volume_signal(opened), opened)
        incident_id = incident.id
    read = make_key("read")
    first = client.get(f"/api/v1/incidents/{incident_id}", headers=read).json()
    assert first["waves"] == 1
    with factory() as session, session.begin():
        _, what = apply_signal(session, brand, volume_signal(now - timedelta(minutes=5), reflare=True), now)
        assert what == "escalated"
    again = client.get(f"/api/v1/incidents/{incident_id}", headers=read).json()
    assert again["waves"] == 2
    assert datetime.fromisoformat(again["last_wave_at"].replace("Z", "+00:00")) == now
    timeline = client.get(f"/api/v1/incidents/{incident_id}/timeline", headers=read)
    assert timeline.status_code == 200, timeline.text
    assert "flared_again" in [e["event"] for e in timeline.json()["items"]]
