"""A real HTTP server on 127.0.0.1 that replays scripted API responses and records the requests.

Tests queue replies per (method, path); the last reply of a queue repeats. Fixture payloads are JSON
files under tests/fixtures/<kind>/ in each API's documented response format.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(kind: str, name: str) -> Any:
    return json.loads((FIXTURES / kind / name).read_text(encoding="utf-8"))


@dataclass
class Reply:
    body: Any = None  # JSON-serialisable, or bytes sent as they are
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Handler = Callable[[Request], Reply]


@dataclass
class ApiServer:
    base: str = ""
    requests: list[Request] = field(default_factory=list)
    queues: dict[tuple[str, str], list[Reply | Handler]] = field(default_factory=dict)

    def reply(self, method: str, path: str, *replies: Reply | Handler) -> None:
        self.queues[(method, path)] = list(replies)

    def to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def _next(self, request: Request) -> Reply:
        queue = self.queues.get((request.method, request.path))
        if not queue:
            return Reply({"error": "no route"}, 404)
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        return item(request) if callable(item) else item


def run_api_server() -> Iterator[ApiServer]:
    """Body of the `api_server` fixture; a test module enables it with
    `api_server_fixture = pytest.fixture(name="api_server")(run_api_server)`."""
    state = ApiServer()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=unquote(parts.path),
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            state.requests.append(request)
            reply = state._next(request)
            body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode("utf-8")
            self.send_response(reply.status)
            if not any(name.lower() == "content-type" for name in reply.headers):
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def auth_failure_in_health(factory, scorer, now, kind: str, settings: dict, secrets: dict) -> str:  # type: ignore[no-untyped-def]
    """Run a source of `kind` once through the real SourceRunner; return its recorded last_error."""
    from collectors.ingest import MentionIngestor
    from collectors.jobs import SourceRunner
    from storage.sources import Source
    from tests.helpers import add_brand, add_source

    with factory() as session, session.begin():
        add_brand(session, "ノロシ珈琲", ["ノロシ珈琲"], now)
        source_id = add_source(session, f"{kind}-auth", now, kind=kind, settings=settings).id
    outcome = SourceRunner(factory, MentionIngestor(scorer), secrets=secrets).run(source_id, now)
    assert not outcome.ok
    with factory() as session:
        source = session.get(Source, source_id)
        assert source is not None and source.consecutive_failures == 1 and source.next_run_at is not None
        return source.last_error or ""
