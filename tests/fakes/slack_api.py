"""A local HTTP server that behaves like Slack's Web API (and incoming webhooks) for slack-sdk to talk to.

Point `WebClient(base_url=fake.api_url)` at it. It answers like Slack does:
- ``POST /api/auth.test``, ``/api/chat.postMessage``, ``/api/chat.update`` with a bearer token; a wrong
  or missing token gets ``{"ok": false, "error": "invalid_auth"}`` (HTTP 200, as Slack does);
- ``chat.postMessage`` returns ``{"ok": true, "channel", "ts", "message"}`` with increasing ``ts``; a user
  id target ("U…") is answered with a DM channel ("D…"), as Slack opens one; unknown channels →
  ``channel_not_found``; ``chat.update`` of an unknown ts → ``message_not_found``;
- ``POST /hooks/<anything>``: an incoming webhook or a ``response_url``; answers ``ok`` as text.
Every request is recorded (method, parsed JSON/form body, headers). `fail_next(n, mode, method=None)`
makes the next n API calls (to one method, if given) fail: "429" (HTTP 429 + Retry-After, body
``ratelimited``), "ratelimited" (HTTP 200, ok=false), "channel_not_found", "invalid_auth", "500", "503".
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

API_METHODS = ("auth.test", "chat.postMessage", "chat.update")


@dataclass
class Call:
    method: str  # "chat.postMessage", … or "webhook"
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # when it arrived (latency benchmarks)


@dataclass
class Message:
    channel: str
    ts: str
    body: dict[str, Any]
    thread_ts: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier versions (chat.update)


class FakeSlack:
    """The server's state; thread-safe because ThreadingHTTPServer answers on several threads."""

    def __init__(self, token: str = "xoxb-test-token", channels: tuple[str, ...] = ("C0INCIDENTS",)) -> None:
        self.token = token
        self.channels = set(channels)
        self.calls: list[Call] = []
        self.messages: dict[str, Message] = {}  # ts → message
        self.retry_after = 7
        self.delay_seconds = 0.0  # answer this much later, like Slack's own round trip (benchmarks)
        self._failures: list[tuple[str, str | None]] = []  # (mode, only this API method or any)
        self._ts = 1_763_700_000_000_000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- control -------------------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def webhook_url(self, name: str = "T000/B000/XXXX") -> str:
        return f"{self.base_url}/hooks/{name}"

    def fail_next(self, n: int, mode: str, method: str | None = None) -> None:
        """The next n calls (to `method` only, if given) fail in this mode."""
        with self._lock:
            self._failures.extend([(mode, method)] * n)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    # --- behaviour -----------------------------------------------------------------------------------
    def _record(self, call: Call) -> str | None:
        with self._lock:
            self.calls.append(call)
            for i, (mode, method) in enumerate(self._failures):
                if call.method != "webhook" and method in (None, call.method):
                    del self._failures[i]
                    return mode
            return None

    def _next_ts(self) -> str:
        with self._lock:
            self._ts += 1
            return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def handle_api(
        self, method: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict, dict]:
        failure = self._record(Call(method, f"/api/{method}", body, headers))
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if failure is not None:
            return _failure(failure, self.retry_after)
        if method not in API_METHODS:
            return 404, {"ok": False, "error": "unknown_method"}, {}
        if headers.get("authorization") != f"Bearer {self.token}":
            return (
                200,
                {"ok": False, "error": "invalid_auth" if headers.get("authorization") else "not_authed"},
                {},
            )
        return getattr(self, "_" + method.replace(".", "_"))(body)

    def _auth_test(self, _: dict[str, Any]) -> tuple[int, dict, dict]:
        return (
            200,
            {"ok": True, "url": "https://noroshi.slack.com/", "team": "Noroshi", "user_id": "UBOT"},
            {},
        )

    def _resolve_channel(self, channel: str) -> str | None:
        if channel.startswith("U"):
            return "D" + channel[1:]  # Slack opens (or reuses) the DM with that user
        return channel if channel in self.channels or channel.startswith("D") else None

    def _chat_postMessage(self, body: dict[str, Any]) -> tuple[int, dict, dict]:
        channel = self._resolve_channel(str(body.get("channel", "")))
        if channel is None:
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        thread_ts = body.get("thread_ts")
        if thread_ts is not None and thread_ts not in self.messages:
            return 200, {"ok": False, "error": "thread_not_found"}, {}
        ts = self._next_ts()
        with self._lock:
            self.messages[ts] = Message(channel=channel, ts=ts, body=body, thread_ts=thread_ts)
        return (
            200,
            {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts, "text": body.get("text")}},
            {},
        )

    def _chat_update(self, body: dict[str, Any]) -> tuple[int, dict, dict]:
        ts, channel = str(body.get("ts")), str(body.get("channel"))
        with self._lock:
            message = self.messages.get(ts)
            if message is None or message.channel != channel:
                return 200, {"ok": False, "error": "message_not_found"}, {}
            message.history.append(message.body)
            message.body = body
        return 200, {"ok": True, "channel": channel, "ts": ts, "text": body.get("text")}, {}

    def thread(self, ts: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages.values() if m.thread_ts == ts]

    def top_level(self) -> list[Message]:
        with self._lock:
            return [m for m in self.messages.values() if m.thread_ts is None]


def _failure(mode: str, retry_after: int) -> tuple[int, dict, dict]:
    table: dict[str, tuple[int, dict, dict]] = {
        "429": (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}),
        "ratelimited": (200, {"ok": False, "error": "ratelimited"}, {}),
        "channel_not_found": (200, {"ok": False, "error": "channel_not_found"}, {}),
        "invalid_auth": (200, {"ok": False, "error": "invalid_auth"}, {}),
        "500": (500, {}, {}),
        "503": (503, {}, {}),
    }
    return table[mode]


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        return dict(json.loads(raw.decode("utf-8")))
    form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in form.items()}


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:  # keep test output quiet
            return

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            body = _parse_body(raw, headers.get("content-type", ""))
            if self.path.startswith("/hooks/"):
                fake._record(Call("webhook", self.path, body, headers))
                self._send(200, b"ok", "text/plain; charset=utf-8", {})
                return
            if not self.path.startswith("/api/"):
                self._send(404, b"not found", "text/plain", {})
                return
            status, payload, extra = fake.handle_api(self.path.removeprefix("/api/"), body, headers)
            if status >= 500:
                self._send(status, b"<html>Bad Gateway</html>", "text/html", extra)
                return
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self._send(status, data, "application/json; charset=utf-8", extra)

        def _send(self, status: int, data: bytes, content_type: str, extra: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
