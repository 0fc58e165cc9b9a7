"""POST /slack/interactions with real signed payloads, and the card it leads to in a Slack-like server.

Requests are signed exactly as Slack signs them (v0 HMAC-SHA256 over "v0:<ts>:<raw body>"); the card
is delivered by the real outbox through slack-sdk to tests/fakes/slack_api.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerting.actions import IncidentActions
from alerting.channels.slack import SlackChannel
from alerting.channels.slack_blocks import ACTION_ACKNOWLEDGE, ACTION_RESOLVE, ACTION_SNOOZE
from alerting.notify import Notifier, NotifyConfig
from alerting.notify_policy import RouteView
from alerting.outbox import OutboxWorker
from alerting.summary import build_incident_context
from api.app import create_app
from api.context import ApiContext
from collectors.ingest import MentionIngestor
from storage.engine import transaction
from storage.incidents import Incident, IncidentEvent
from tests.fakes.slack_api import FakeSlack
from tests.helpers import add_brand

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test-token"
CHANNEL = "C0INCIDENTS"
USER = {"id": "U0HANAKO", "username": "hanako", "name": "hanako", "team_id": "T0NOROSHI"}


def signed(body: str, at: datetime, secret: str = SECRET) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def block_actions(action: dict[str, Any], response_url: str = "", user: dict[str, Any] = USER) -> str:
    """A block_actions payload shaped like Slack's (trimmed to the fields Slack always sends)."""
    payload = {
        "type": "block_actions",
        "user": user,
        "api_app_id": "A0NOROSHI",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": "1763700000.000001", "channel_id": CHANNEL},
        "trigger_id": "123.456.abc",
        "team": {"id": "T0NOROSHI", "domain": "noroshi"},
        "channel": {"id": CHANNEL, "name": "incidents"},
        "response_url": response_url,
        "actions": [{"block_id": "noroshi_incident", "action_ts": "1763700001.000200", **action}],
    }
    return urlencode({"payload": json.dumps(payload, ensure_ascii=False)})


def button(action_id: str, incident_id: int) -> dict[str, Any]:
    return {
        "action_id": action_id,
        "type": "button",
        "value": str(incident_id),
        "text": {"type": "plain_text"},
    }


def snooze(incident_id: int, minutes: int) -> dict[str, Any]:
    option = {"text": {"type": "plain_text", "text": "1 h"}, "value": f"{incident_id}:{minutes}"}
    return {"action_id": ACTION_SNOOZE, "type": "static_select", "selected_option": option}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, channels=(CHANNEL,)) as fake:
        yield fake


@pytest.fixture
def notifier() -> Notifier:
    return Notifier(
        build_incident_context, NotifyConfig("http://noroshi.test", (RouteView("slack", CHANNEL),))
    )


@pytest.fixture
def context(factory: sessionmaker[Session], scorer, now: datetime, notifier: Notifier) -> ApiContext:  # type: ignore[no-untyped-def]
    return ApiContext(
        factory=factory,
        ingestor=MentionIngestor(scorer),
        clock=lambda: now,
        slack_signing_secret=SECRET,
        actions=IncidentActions(notifier),
    )


@pytest.fixture
def client(context: ApiContext) -> Iterator[TestClient]:
    with TestClient(create_app(context)) as test_client:
        yield test_client


@pytest.fixture
def incident_id(factory: sessionmaker[Session], now: datetime, notifier: Notifier) -> int:
    """An open 炎上 incident, already announced (its Slack card is in the outbox)."""
    with transaction(factory) as session:
        brand = add_brand(session, "さくら食品", ["さくら食品"], now)
        incident = Incident(
            brand_id=brand.id,
            kind="volume",
            dedup_key=f"brand:{brand.id}:volume",
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
        notifier.plan(session, incident, now)
        return incident.id


def timeline(factory: sessionmaker[Session], incident_id: int) -> list[tuple[str, str]]:
    with factory() as session:
        rows = session.scalars(
            select(IncidentEvent).where(IncidentEvent.incident_id == incident_id).order_by(IncidentEvent.id)
        )
        return [(e.event, e.actor) for e in rows]


def status(factory: sessionmaker[Session], incident_id: int) -> Incident:
    with factory() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        session.expunge(incident)
        return incident


# --- signature -----------------------------------------------------------------------------------------


def test_a_valid_click_acknowledges_as_the_slack_user(
    client: TestClient, factory: sessionmaker[Session], incident_id: int, now: datetime
) -> None:
    body = block_actions(button(ACTION_ACKNOWLEDGE, incident_id))
    response = client.post("/slack/interactions", content=body, headers=signed(body, now))

    assert response.status_code == 200 and response.content == b""
    assert status(factory, incident_id).status == "acknowledged"
    assert timeline(factory, incident_id)[-1] == ("acknowledge", "slack:hanako (U0HANAKO)")


def test_a_signature_older_than_five_minutes_is_refused(
    client: TestClient, factory: sessionmaker[Session], incident_id: int, now: datetime
) -> None:
    body = block_actions(button(ACTION_ACKNOWLEDGE, incident_id))
    response = client.post(
        "/slack/interactions", content=body, headers=signed(body, now - timedelta(minutes=6))
    )

    assert response.status_code == 401 and response.json()["code"] == "invalid_signature"
    assert status(factory, incident_id).status == "triggered"


def test_a_tampered_body_is_refused(
    client: TestClient, factory: sessionmaker[Session], incident_id: int, now: datetime
) -> None:
    body = block_actions(button(ACTION_ACKNOWLEDGE, incident_id))
    tampered = body.replace("acknowledge", "resolve")
    assert tampered != body
    response = client.post("/slack/interactions", content=tampered, headers=signed(body, now))

    assert response.status_code == 401
    assert status(factory, incident_id).status == "triggered"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=00"},
    ],
)
def test_missing_or_garbled_signature_headers_are_refused(
    client: TestClient, incident_id: int, headers: dict[str, str]
) -> None:
    body = block_actions(button(ACTION_ACKNOWLEDGE, incident_id))
    assert client.post("/slack/interactions", content=body, headers=headers).status_code == 401


def test_another_apps_secret_is_refused(client: TestClient, incident_id: int, now: datetime) -> None:
    body = block_actions(button(ACTION_ACKNOWLEDGE, incident_id))
    headers = signed(body, now, secret="someone-elses-secret")
    assert client.post("/slack/interactions", content=body, headers=headers).status_code == 401


def test_without_a_signing_secret_the_endpoint_is_off(
    context: ApiContext, incident_id: int, now: datetime
) -> None:
    context.slack_signing_secret = None
    body = block_actions(button(ACTION_ACKNOWLEDGE, incident_id))
    with TestClient(create_app(context)) as client:
        response = client.post("/slack/interactions", content=body, headers=signed(body, now))
    assert response.status_code == 503 and "NOROSHI_SLACK_SIGNING_SECRET" in response.json()["detail"]


# --- payloads -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("payload=%7Bnot+json", "payload"),
        ("something=else", "payload"),
        (
            urlencode({"payload": json.dumps({"type": "block_actions", "user": USER, "actions": []})}),
            "actions",
        ),
        (block_actions({"action_id": ACTION_RESOLVE, "value": "forty-two"}), "actions[0].value"),
        (block_actions(snooze(1, 0)), "actions[0].value"),
        (block_actions(button(ACTION_ACKNOWLEDGE, 1), user={"name": "no id"}), "user.id"),
    ],
)
def test_a_malformed_payload_is_400_naming_the_field(
    client: TestClient, now: datetime, body: str, field: str
) -> None:
    response = client.post("/slack/interactions", content=body, headers=signed(body, now))
    assert response.status_code == 400
    assert response.json()["detail"].startswith(field)


def test_interactions_of_other_kinds_are_acknowledged_and_ignored(
    client: TestClient, factory: sessionmaker[Session], incident_id: int, now: datetime
) -> None:
    body = urlencode({"payload": json.dumps({"type": "view_submission", "user": USER})})
    assert client.post("/slack/interactions", content=body, headers=signed(body, now)).status_code == 200
    other = block_actions({"action_id": "someone_elses_button", "value": str(incident_id)})
    assert client.post("/slack/interactions", content=other, headers=signed(other, now)).status_code == 200
    assert status(factory, incident_id).status == "triggered"


def test_unknown_incident_gets_a_polite_ephemeral_message(
    client: TestClient, slack: FakeSlack, now: datetime
) -> None:
    body = block_actions(button(ACTION_ACKNOWLEDGE, 999), response_url=slack.webhook_url("actions/T0/1/xyz"))
    response = client.post("/slack/interactions", content=body, headers=signed(body, now))

    assert response.status_code == 200
    [reply] = slack.calls_to("webhook")  # sent after the response, via the response_url
    assert reply.body["response_type"] == "ephemeral" and reply.body["replace_original"] is False
    assert "#999" in reply.body["text"] and "見つかりません" in reply.body["text"]


def test_acknowledging_a_resolved_incident_is_explained_not_applied(
    client: TestClient, slack: FakeSlack, factory: sessionmaker[Session], incident_id: int, now: datetime
) -> None:
    url = slack.webhook_url("actions/T0/2/xyz")
    resolve = block_actions(button(ACTION_RESOLVE, incident_id), response_url=url)
    assert (
        client.post("/slack/interactions", content=resolve, headers=signed(resolve, now)).status_code == 200
    )
    ack = block_actions(button(ACTION_ACKNOWLEDGE, incident_id), response_url=url)
    assert client.post("/slack/interactions", content=ack, headers=signed(ack, now)).status_code == 200

    assert status(factory, incident_id).status == "resolved"
    [reply] = slack.calls_to("webhook")
    assert "cannot acknowledge" in reply.body["text"]


def test_snooze_sets_the_end_time_from_the_choice(
    client: TestClient, factory: sessionmaker[Session], incident_id: int, now: datetime
) -> None:
    body = block_actions(snooze(incident_id, 240))
    assert client.post("/slack/interactions", content=body, headers=signed(body, now)).status_code == 200
    incident = status(factory, incident_id)
    assert incident.status == "snoozed" and incident.snoozed_until == now + timedelta(hours=4)
    assert timeline(factory, incident_id)[-1] == ("snooze", "slack:hanako (U0HANAKO)")


# --- the whole loop: card → click → the same card edited, the thread told -----------------------------


def test_one_card_updates_in_place_through_ack_and_resolve(
    client: TestClient, slack: FakeSlack, factory: sessionmaker[Session], incident_id: int, now: datetime
) -> None:
    outbox = OutboxWorker(factory, {"slack": SlackChannel(TOKEN, base_url=slack.api_url)}, lambda: now)
    assert len(outbox.run_once().sent) == 1
    [card] = slack.top_level()
    assert "炎上 Flame-up · さくら食品" in json.dumps(card.body["attachments"], ensure_ascii=False)

    for action in (ACTION_ACKNOWLEDGE, ACTION_RESOLVE):
        body = block_actions(button(action, incident_id))
        assert client.post("/slack/interactions", content=body, headers=signed(body, now)).status_code == 200
        assert len(outbox.run_once().sent) == 1

    assert slack.top_level() == [card]  # still one card
    acked, resolved = card.history[-1], card.body
    assert "対応中 Acknowledged by slack:hanako (U0HANAKO)" in json.dumps(acked, ensure_ascii=False)
    assert "解決済み Resolved by slack:hanako (U0HANAKO)" in json.dumps(resolved, ensure_ascii=False)
    assert not [b for b in resolved["attachments"][0]["blocks"] if b["type"] == "actions"]
    replies = sorted(slack.thread(card.ts), key=lambda m: m.ts)
    assert [
        "対応開始 Acknowledged" in replies[0].body["text"],
        "解決 Resolved" in replies[1].body["text"],
    ] == [
        True,
        True,
    ]
    assert replies[1].body["reply_broadcast"] is True
