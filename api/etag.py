"""ETag / If-None-Match for every `GET /api/v1/…` answered 200 with JSON, implemented once.

The strong ETag hashes the body together with the caller's brand scope, so two keys that see different
brands never share a cached representation. A matching `If-None-Match` gets 304 with no body. Responses
carry `Cache-Control: private, no-cache`: a client may keep them, must revalidate, and shared caches
must not store them (they depend on the API key).
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/api/v1/"
CACHE_CONTROL = "private, no-cache"


def compute_etag(body: bytes, brand_scope: str) -> str:
    return '"' + hashlib.sha256(brand_scope.encode() + b"\n" + body).hexdigest()[:40] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison for If-None-Match: `*` or any listed tag equal ignoring `W/`."""
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


class ETagMiddleware:
    """Pure ASGI (BaseHTTPMiddleware costs more than the hashing): buffers a /api/v1 GET's response and
    passes it on unchanged unless it is a 200 JSON answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await _finish(scope, start, b"".join(chunks), send)
            else:
                await send(message)

        await self.app(scope, receive, buffered)


async def _finish(scope: Scope, start: Message, body: bytes, send: Send) -> None:
    headers = MutableHeaders(raw=list(start["headers"]))
    if start["status"] != 200 or not headers.get("content-type", "").startswith("application/json"):
        await send(start)
        await send({"type": "http.response.body", "body": body})
        return
    principal = scope.get("state", {}).get("principal")
    etag = compute_etag(body, principal.brand_scope if principal is not None else "")
    request_headers = Headers(scope=scope)
    if matches(request_headers.get("if-none-match"), etag):
        raw = MutableHeaders({"ETag": etag, "Cache-Control": CACHE_CONTROL}).raw
        await send({"type": "http.response.start", "status": 304, "headers": raw})
        await send({"type": "http.response.body", "body": b""})
        return
    headers["ETag"], headers["Cache-Control"] = etag, CACHE_CONTROL
    await send({**start, "headers": headers.raw})
    await send({"type": "http.response.body", "body": body})


def _document(schema: dict[str, Any]) -> dict[str, Any]:
    """Every /api/v1 GET: the If-None-Match parameter, the ETag header and the 304 response."""
    for path, operations in schema.get("paths", {}).items():
        operation = operations.get("get")
        if not path.startswith(PREFIX) or operation is None:
            continue
        operation.setdefault("parameters", []).append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "an ETag from an earlier response: 304 (no body) if nothing changed",
            }
        )
        ok = operation.setdefault("responses", {}).setdefault("200", {"description": "OK"})
        ok.setdefault("headers", {})["ETag"] = {
            "description": "strong validator of this representation for this API key",
            "schema": {"type": "string"},
        }
        operation["responses"]["304"] = {"description": "Not Modified: the If-None-Match ETag still holds"}
    return schema


def install_etag(app: FastAPI) -> None:
    app.add_middleware(ETagMiddleware)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
