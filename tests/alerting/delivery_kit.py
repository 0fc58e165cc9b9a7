"""Test-only parts for the outbox tests: a recording HTTP receiver on 127.0.0.1, a small real channel
that POSTs to it (webhook style), and incident rows.

The outbox is channel-agnostic, so its own tests drive it through this channel (real HTTP over a real
socket, real status codes and Retry-After headers); the crash test uses the real Slack and e-mail
channels."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
from sqlalchemy.orm import Session

from alerting.channels.base import DeliveryResult, OutgoingNotification
from storage.brands import Brand
from storage.incidents import Incident


@dataclass
class Received:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


class Receiver:
    """Records every POST; answers from a script of (status, headers) first, then 200 {"id": n}."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[tuple[int, dict[str, str]]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.received.append(
                        Received(self.path, json.loads(raw), {k.lower(): v for k, v in self.headers.items()})
                    )
                    status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                    serial = len(receiver.received)
                body = json.dumps({"id": serial} if status < 300 else {"error": f"http {status}"}).encode()
                self.send_response(status)
                for name, value in {"content-type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A short poll: shutdown() waits up to one interval (0.5 s by default, paid at every teardown).
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def keys(self) -> list[str]:
        with self.lock:
            return [r.headers["idempotency-key"] for r in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    try:
        yield receiver
    finally:
        receiver.close()


class PostChannel:
    """A webhook-style channel: POST the notification as JSON; 2xx ok, 429 honours Retry-After,
    other 4xx are permanent, 5xx and network errors are retried. Remembers the receiver's first id."""

    kind: ClassVar[str] = "webhook"

    def __init__(self, url: str, kind: str = "webhook") -> None:
        self.url = url
        self.kind = kind  # type: ignore[misc]
        self.client = httpx.Client(timeout=5.0)

    def deliver(self, notification: OutgoingNotification) -> DeliveryResult:
        body = {
            "event": notification.event,
            "incident_id": notification.incident_id,
            "target": notification.target,
            "attempt": notification.attempt,
            "state": notification.state,
            "headline": notification.context.get("headline"),
        }
        try:
            response = self.client.post(
                f"{self.url}/{self.kind}",
                json=body,
                headers={"idempotency-key": notification.idempotency_key},
            )
        except httpx.HTTPError as exc:
            return DeliveryResult(ok=False, error=str(exc))
        if response.is_success:
            first = notification.state.get("first_id", response.json()["id"])
            return DeliveryResult(ok=True, state={"first_id": first, "last_id": response.json()["id"]})
        if response.status_code == 429:
            retry = float(response.headers.get("retry-after", "1"))
            return DeliveryResult(ok=False, retry_after_seconds=retry, error="429 rate limited")
        permanent = 400 <= response.status_code < 500
        return DeliveryResult(ok=False, permanent=permanent, error=f"HTTP {response.status_code}")


def add_brand(session: Session, now: datetime, name: str = "ノロシ珈琲") -> Brand:
    brand = Brand(name=name, keywords=[name], exclude=[], languages=[], created_at=now, updated_at=now)
    session.add(brand)
    session.flush()
    return brand


def add_incident(
    session: Session,
    brand_id: int,
    now: datetime,
    kind: str = "volume",
    severity: str = "warning",
    status: str = "triggered",
    **fields: Any,
) -> Incident:
    incident = Incident(
        brand_id=brand_id,
        kind=kind,
        dedup_key=f"brand:{brand_id}:{kind}",
        status=status,
        severity=severity,
        started_at=fields.pop("started_at", now),
        last_signal_at=now,
        score=5.0,
        peak_score=5.0,
        observed=120.0,
        expected=20.0,
        upper=40.0,
        test="poisson",
        evidence={},
        created_at=fields.pop("created_at", now),
        updated_at=now,
        **fields,
    )
    session.add(incident)
    session.flush()
    return incident


def simple_context(session: Session, incident: Incident, public_url: str, now: datetime) -> dict[str, Any]:
    """A small stand-in for alerting.summary's context, so these tests stay about the outbox."""
    return {
        "incident": {"id": incident.id, "severity": incident.severity, "status": incident.status},
        "headline": {"en": f"{incident.kind} {incident.severity}"},
        "url": f"{public_url}/incidents/{incident.id}",
        "at": now.isoformat(),
    }
