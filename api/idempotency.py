"""Idempotency-Key on POSTs that create: a retried request gets the first response, not a duplicate.

The first request with a key reserves it (a row with no response yet) in its own transaction; the unique
constraint (caller, key) makes exactly one of two concurrent duplicates win. The winner runs the create
and stores the response; a later request with the same key and the same body gets it replayed with
`Idempotent-Replayed: true`. Known gap: the create and the stored response commit separately, so a crash
between them leaves the key "in progress" (409) until the record expires after 24 h.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from api.auth import Principal
from api.context import ApiContext
from api.problems import ApiProblem
from storage.idempotency import IdempotencyRecord, find_record, prune_idempotency_records

REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
IDEMPOTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "`idempotency_key_in_progress`: a request with this Idempotency-Key is running"},
    422: {"description": "`idempotency_key_reused`: this Idempotency-Key was used with another request"},
}
Redact = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    key: str | None
    method_path: str
    request_hash: str


async def idempotency_key(
    request: Request,
    key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="any unique string (e.g. a UUID) per intended create; retries with the same key and "
        "body replay the first response for 24 h",
    ),
) -> IdempotentRequest:
    """Dependency: the header plus a hash of the request (method, path and canonical JSON body)."""
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH and key.isprintable() and key.isascii()):
        raise ApiProblem(
            400, "invalid_idempotency_key", f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} printable ASCII"
        )
    raw = await request.body()
    try:  # canonical JSON, so key order and whitespace do not make a retry look like another request
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = raw
    method_path = f"{request.method} {request.url.path}"
    digest = hashlib.sha256(method_path.encode() + b"\n" + canonical).hexdigest()
    return IdempotentRequest(key=key, method_path=method_path, request_hash=digest)


def _owner(principal: Principal) -> str:
    return f"key:{principal.key_id}" if principal.key_id is not None else principal.name


def _replay(record: IdempotencyRecord) -> JSONResponse:
    body = json.loads(record.response_body or "null")
    return JSONResponse(body, status_code=record.status_code or 200, headers={REPLAYED_HEADER: "true"})


# What an earlier record with the same key means for this request, checked in order.
_EXISTING: tuple[tuple[Callable[[IdempotencyRecord, IdempotentRequest], bool], int, str, str], ...] = (
    (
        lambda r, q: r.request_hash != q.request_hash,
        422,
        "idempotency_key_reused",
        "this Idempotency-Key was already used with a different request; use a new key",
    ),
    (
        lambda r, _: r.status_code is None,
        409,
        "idempotency_key_in_progress",
        "a request with this Idempotency-Key is still running; retry shortly",
    ),
)


def _answer_existing(record: IdempotencyRecord | None, request: IdempotentRequest) -> JSONResponse:
    if record is None:  # the first request failed and released the key just now
        raise ApiProblem(409, "idempotency_key_in_progress", "retry shortly")
    for applies, status, code, detail in _EXISTING:
        if applies(record, request):
            raise ApiProblem(status, code, detail)
    return _replay(record)


def run_idempotent(
    context: ApiContext,
    principal: Principal,
    request: IdempotentRequest,
    create: Callable[[], BaseModel],
    *,
    status_code: int = 201,
    redact: Redact | None = None,
) -> JSONResponse:
    """Run `create` once per (caller, Idempotency-Key); without a key it simply runs."""
    if request.key is None:
        return JSONResponse(jsonable_encoder(create()), status_code=status_code)
    owner, now = _owner(principal), context.clock()
    try:
        with context.factory() as session, session.begin():
            prune_idempotency_records(session, now)
            session.add(
                IdempotencyRecord(
                    owner=owner,
                    idempotency_key=request.key,
                    method_path=request.method_path,
                    request_hash=request.request_hash,
                    created_at=now,
                )
            )
    except IntegrityError:
        with context.factory() as session:
            return _answer_existing(find_record(session, owner, request.key), request)
    where = (IdempotencyRecord.owner == owner, IdempotencyRecord.idempotency_key == request.key)
    try:
        body = jsonable_encoder(create())
    except BaseException:
        with context.factory() as session, session.begin():  # release the key: a retry may succeed
            session.execute(delete(IdempotencyRecord).where(*where))
        raise
    stored = redact(body) if redact is not None else body
    with context.factory() as session, session.begin():
        session.execute(
            update(IdempotencyRecord)
            .where(*where)
            .values(status_code=status_code, response_body=json.dumps(stored, ensure_ascii=False))
        )
    return JSONResponse(body, status_code=status_code)
