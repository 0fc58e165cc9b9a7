"""/api/v1/api-keys: create (the key is shown once), list, inspect and revoke API keys.

Only admin keys manage keys, and only admin keys *not* limited to brands: a brand-limited admin could
otherwise mint an unrestricted key and escape its limit.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal, create_api_key, require
from api.context import ApiContext, get_context, get_session
from api.idempotency import IDEMPOTENT_RESPONSES, IdempotentRequest, idempotency_key, run_idempotent
from api.key_schemas import ApiKeyCreatedOut, ApiKeyIn, ApiKeyOut
from api.problems import ApiProblem
from api.routers.listing import page_by_id
from api.schemas import Page
from storage.api_keys import ApiKey
from storage.brands import unknown_brands

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"])


def key_admin(principal: Principal = Depends(require("admin"))) -> Principal:
    if principal.brand_ids is not None:
        raise ApiProblem(
            403, "brand_forbidden", "API keys are managed only with an admin key not limited to brands"
        )
    return principal


def _get(session: Session, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise ApiProblem(404, "not_found", f"no API key with id {key_id}")
    return key


def _check_brands(session: Session, brand_ids: list[int] | None) -> None:
    if brand_ids is None:
        return
    missing = unknown_brands(session, brand_ids)
    if missing:
        raise ApiProblem(
            422,
            "unknown_brand",
            f"brand_ids: no brand with id {', '.join(map(str, missing))}",
            errors=[{"field": "brand_ids"}],
        )


def _without_key(body: dict[str, Any]) -> dict[str, Any]:
    """What an idempotent replay returns: the metadata, never the key (it is not stored anywhere)."""
    return {**body, "key": None, "key_shown": False}


@router.post(
    "",
    response_model=ApiKeyCreatedOut,
    status_code=201,
    responses={**IDEMPOTENT_RESPONSES, 403: {"description": "not an unrestricted admin key"}},
)
def create_key(
    body: ApiKeyIn,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(key_admin),
    idempotent: IdempotentRequest = Depends(idempotency_key),
) -> JSONResponse:
    """Create a key. The response's `key` is the only time the full key is shown: store it now. With an
    Idempotency-Key, a replay returns the metadata with `key: null` and `key_shown: false`."""
    now = context.clock()
    if body.expires_at is not None and body.expires_at <= now:
        raise ApiProblem(422, "validation_error", "expires_at: must be in the future")

    def create() -> ApiKeyCreatedOut:
        with context.factory() as session, session.begin():
            _check_brands(session, body.brand_ids)
            key, secret = create_api_key(
                session,
                body.name,
                list(body.scopes),
                now,
                brand_ids=body.brand_ids,
                expires_at=body.expires_at,
            )
            return ApiKeyCreatedOut(**ApiKeyOut.model_validate(key).model_dump(), key=secret, key_shown=True)

    return run_idempotent(context, principal, idempotent, create, redact=_without_key)


@router.get("", response_model=Page[ApiKeyOut])
def list_keys(
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = None,
    include_revoked: bool = Query(False, description="also list revoked keys"),
    session: Session = Depends(get_session),
    _: Principal = Depends(key_admin),
) -> Page[ApiKeyOut]:
    """Newest first; metadata only (never the key or its hash)."""
    query = select(ApiKey)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    rows, next_cursor = page_by_id(session, query, ApiKey.id, limit, cursor)
    return Page[ApiKeyOut](items=[ApiKeyOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/{key_id}", response_model=ApiKeyOut)
def get_key(
    key_id: int, session: Session = Depends(get_session), _: Principal = Depends(key_admin)
) -> ApiKeyOut:
    return ApiKeyOut.model_validate(_get(session, key_id))


@router.delete("/{key_id}", response_model=ApiKeyOut)
def revoke_key(
    key_id: int, context: ApiContext = Depends(get_context), _: Principal = Depends(key_admin)
) -> ApiKeyOut:
    """Revoke at once: the next request with the key gets 401. Revoking again changes nothing."""
    with context.factory() as session, session.begin():
        key = _get(session, key_id)
        if key.revoked_at is None:
            key.revoked_at = context.clock()
        session.flush()
        return ApiKeyOut.model_validate(key)
