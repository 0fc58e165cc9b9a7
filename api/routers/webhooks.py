"""/api/v1/webhooks: outgoing webhook subscriptions, signed Standard Webhooks style.

A secret is shown once — on create and on rotate — and never listed. Rotating keeps the previous
secret signing alongside the new one for ROTATION_GRACE, so a receiver can switch without a gap.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.webhook_signing import generate_secret
from api.alerting_schemas import WebhookIn, WebhookOut, WebhookSecretOut
from api.auth import Principal, ensure_brand_access, limit_to_brands, require
from api.context import ApiContext, get_context, get_session
from api.idempotency import IDEMPOTENT_RESPONSES, IdempotentRequest, idempotency_key, run_idempotent
from api.problems import ApiProblem
from api.routers.listing import page_by_id
from api.routers.muting import check_brand
from api.schemas import Page
from storage.notifications import WebhookSubscription

router = APIRouter(prefix="/api/v1/webhooks", tags=["notifications"])
ROTATION_GRACE = timedelta(hours=24)


def _with_secret(sub: WebhookSubscription) -> WebhookSecretOut:
    return WebhookSecretOut(**WebhookOut.model_validate(sub).model_dump(), secret=sub.secret)


def _get(session: Session, webhook_id: int, principal: Principal) -> WebhookSubscription:
    sub = session.get(WebhookSubscription, webhook_id)
    if sub is None:
        raise ApiProblem(404, "not_found", f"no webhook subscription with id {webhook_id}")
    ensure_brand_access(principal, sub.brand_id)
    return sub


@router.get("", response_model=Page[WebhookOut])
def list_webhooks(
    brand_id: int | None = None,
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = None,
    session: Session = Depends(get_session),
    principal: Principal = Depends(require("admin")),
) -> Page[WebhookOut]:
    """Newest first, without secrets."""
    query = limit_to_brands(select(WebhookSubscription), principal, WebhookSubscription.brand_id)
    if brand_id is not None:
        ensure_brand_access(principal, brand_id)
        query = query.where(WebhookSubscription.brand_id == brand_id)
    rows, next_cursor = page_by_id(session, query, WebhookSubscription.id, limit, cursor)
    return Page[WebhookOut](items=[WebhookOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("", response_model=WebhookSecretOut, status_code=201, responses=IDEMPOTENT_RESPONSES)
def create_webhook(
    body: WebhookIn,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("admin")),
    idempotent: IdempotentRequest = Depends(idempotency_key),
) -> JSONResponse:
    """Subscribe a URL. The response carries the signing secret (`whsec_…`) once: store it now. An
    idempotent replay returns it again (the subscription stores it anyway, to sign deliveries)."""

    def create() -> WebhookSecretOut:
        with context.factory() as session, session.begin():
            check_brand(session, body.brand_id)
            ensure_brand_access(principal, body.brand_id)
            sub = WebhookSubscription(
                **body.model_dump(), secret=generate_secret(), created_at=context.clock()
            )
            session.add(sub)
            session.flush()
            return _with_secret(sub)

    return run_idempotent(context, principal, idempotent, create)


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookSecretOut)
def rotate_secret(
    webhook_id: int,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("admin")),
) -> WebhookSecretOut:
    """A new secret (returned once); the current one keeps signing too until `previous_secret_expires_at`."""
    now = context.clock()
    with context.factory() as session, session.begin():
        sub = _get(session, webhook_id, principal)
        sub.previous_secret, sub.previous_secret_expires_at = sub.secret, now + ROTATION_GRACE
        sub.secret = generate_secret()
        session.flush()
        return _with_secret(sub)


@router.delete("/{webhook_id}", status_code=204)
def delete_webhook(
    webhook_id: int,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("admin")),
) -> Response:
    with context.factory() as session, session.begin():
        session.delete(_get(session, webhook_id, principal))
    return Response(status_code=204)
