"""Outgoing webhooks against a local HTTP receiver that verifies signatures with `verify()`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from alerting.channels.base import OutgoingNotification
from alerting.channels.webhook import SubscriptionStore, WebhookChannel
from alerting.webhook_signing import WebhookVerificationError, generate_secret, sign, verify
from storage.models import WebhookSubscription
from tests.alerting.incident_rows import NOW

CONTEXT: dict[str, Any] = {
    "incident": {"id": 7, "kind": "volume", "severity": "flame", "status": "triggered", "ratio": 8.0},
    "brand": {"id": 1, "name": "ノロシ珈琲", "timezone": "Asia/Tokyo", "locale": "ja"},
    "headline": {"ja": "ノロシ珈琲の言及が通常の8倍に増加（14:05 JST〜）。", "en": "Mentions rose 8×."},
    "runbook": {
        "title": "炎上",
        "first_steps": ["事実を確認する"],
        "markdown": "# 炎上",
        "html": "<h1>炎上</h1>",
    },
    "actor": None,
}


@dataclass
class Receiver:
    """Records every request; answers with the scripted statuses, then 204."""

    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            state.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status, headers = state.script.pop(0) if state.script else (204, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/noroshi"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def note(target: str, event: str = "triggered") -> OutgoingNotification:
    return OutgoingNotification(
        1, 7, "webhook", target, event, f"incident:7:webhook:{target}:{event}:1", 1, CONTEXT
    )


def subscribe(factory, url: str, **fields: Any) -> str:  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        sub = WebhookSubscription(url=url, events=fields.pop("events", []), created_at=NOW, **fields)
        session.add(sub)
        session.flush()
        return str(sub.id)


def test_signed_event_verifies_at_the_receiver(receiver: Receiver) -> None:
    secret = generate_secret()
    with httpx.Client(timeout=5) as http:
        result = WebhookChannel(http, secret=secret, clock=lambda: NOW).deliver(note(receiver.url))
    assert result.ok
    [(headers, body)] = receiver.requests
    assert verify(secret, headers, body, NOW).startswith("msg_")
    event = json.loads(body)
    assert event["type"] == "incident.triggered"
    assert event["data"]["incident"]["id"] == 7 and event["data"]["brand"]["name"] == "ノロシ珈琲"
    assert "html" not in event["data"]["runbook"] and event["data"]["runbook"]["first_steps"] == [
        "事実を確認する"
    ]
    assert headers["webhook-timestamp"] == str(int(NOW.timestamp()))

    tampered = body.replace("8倍".encode(), "2倍".encode())
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify(secret, headers, tampered, NOW)
    with pytest.raises(WebhookVerificationError, match="300 s"):
        verify(secret, headers, body, NOW + timedelta(minutes=6))  # a replay six minutes later
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify(generate_secret(), headers, body, NOW)
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify(secret, {k: v for k, v in headers.items() if k != "webhook-id"}, body, NOW)


def test_rotation_signs_with_both_secrets_until_the_old_one_expires(factory, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    old, new = generate_secret(), generate_secret()
    target = subscribe(
        factory,
        receiver.url,
        secret=new,
        previous_secret=old,
        previous_secret_expires_at=NOW + timedelta(days=1),
    )
    store = SubscriptionStore(factory)
    with httpx.Client(timeout=5) as http:
        assert WebhookChannel(http, store, clock=lambda: NOW).deliver(note(target)).ok
        later = NOW + timedelta(days=2)
        assert WebhookChannel(http, store, clock=lambda: later).deliver(note(target, "resolved")).ok
    (during, body), (after, body2) = receiver.requests
    assert len(during["webhook-signature"].split()) == 2
    verify(old, during, body, NOW)  # a receiver not yet switched over
    verify(new, during, body, NOW)  # and one that already has the new secret
    assert len(after["webhook-signature"].split()) == 1
    verify(new, after, body2, NOW + timedelta(days=2))
    with pytest.raises(WebhookVerificationError):
        verify(old, after, body2, NOW + timedelta(days=2))


def test_5xx_is_retried_with_the_same_webhook_id(factory, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    secret = generate_secret()
    target = subscribe(factory, receiver.url, secret=secret)
    receiver.script = [(500, {}), (503, {"Retry-After": "30"})]
    with httpx.Client(timeout=5) as http:
        channel = WebhookChannel(http, SubscriptionStore(factory), clock=lambda: NOW)
        first, second, third = (channel.deliver(note(target)) for _ in range(3))
    assert not first.ok and not first.permanent and first.retry_after_seconds is None
    assert not second.ok and not second.permanent and second.retry_after_seconds == 30
    assert third.ok
    ids = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1  # the receiver can dedupe the retries


@pytest.mark.parametrize(("status", "disabled"), [(410, True), (400, False)])
def test_gone_disables_and_other_4xx_are_permanent(
    factory, receiver: Receiver, status: int, disabled: bool
) -> None:  # type: ignore[no-untyped-def]
    target = subscribe(factory, receiver.url, secret=generate_secret())
    receiver.script = [(status, {})]
    with httpx.Client(timeout=5) as http:
        result = WebhookChannel(http, SubscriptionStore(factory), clock=lambda: NOW).deliver(note(target))
    assert not result.ok and result.permanent and str(status) in (result.error or "")
    with factory() as session:
        assert session.get(WebhookSubscription, int(target)).enabled is (not disabled)


def test_unreachable_receiver_is_retried_and_unsubscribed_events_skipped(factory) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(timeout=2) as http:
        result = WebhookChannel(http, secret="s", clock=lambda: NOW).deliver(note("http://127.0.0.1:9/x"))
        assert not result.ok and not result.permanent
        target = subscribe(factory, "http://127.0.0.1:9/x", secret="s", events=["resolved"])
        skipped = WebhookChannel(http, SubscriptionStore(factory), clock=lambda: NOW).deliver(note(target))
        assert skipped.ok and "not subscribed" in (skipped.error or "")


def test_sign_matches_the_standard_webhooks_reference_vector() -> None:
    # From the Standard Webhooks specification's test vectors (svix/standard-webhooks).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_documented_receiver_recipe_works() -> None:
    """The Python block in docs/webhooks.md, run as a receiver would, against what Noroshi sends."""
    import re
    import time
    from pathlib import Path

    from alerting.webhook_signing import signed_headers

    doc = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    recipe = namespace["verify_noroshi"]
    old, new = generate_secret(), generate_secret()
    body = json.dumps({"type": "incident.resolved", "data": CONTEXT}, ensure_ascii=False).encode()
    headers = signed_headers([new, old], "msg_1", int(time.time()), body)
    assert recipe(old, headers, body) == "msg_1" and recipe(new, headers, body) == "msg_1"
    with pytest.raises(ValueError, match="bad signature"):
        recipe(new, headers, body + b" ")
    stale = signed_headers([new], "msg_1", int(time.time()) - 600, body)
    with pytest.raises(ValueError, match="stale"):
        recipe(new, stale, body)
