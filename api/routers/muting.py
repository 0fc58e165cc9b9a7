"""/api/v1/silences and /api/v1/campaign-windows: when incidents are recorded but nobody is paged.

Deleting one that has started expires it (ends it now) rather than removing the row, so the record of
who muted what, and why, stays; one that has not started yet is removed outright.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.alerting_schemas import CampaignWindowIn, CampaignWindowOut, SilenceIn, SilenceOut
from api.auth import Principal, ensure_brand_access, limit_to_brands, require
from api.context import ApiContext, get_context, get_session
from api.idempotency import IDEMPOTENT_RESPONSES, IdempotentRequest, idempotency_key, run_idempotent
from api.problems import ApiProblem
from api.routers.listing import page_by_id
from api.schemas import Page
from storage.brands import Brand
from storage.muting import CampaignWindow, Silence

router = APIRouter(prefix="/api/v1", tags=["muting"])


def check_brand(session: Session, brand_id: int | None) -> None:
    """A brand referenced from a request body must exist (422 naming `brand_id`, not a 404 on the URL)."""
    if brand_id is not None and session.get(Brand, brand_id) is None:
        raise ApiProblem(
            422, "unknown_brand", f"brand_id: no brand with id {brand_id}", errors=[{"field": "brand_id"}]
        )


def check_window(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= starts_at:
        raise ApiProblem(
            422, "invalid_window", "ends_at: must be after starts_at", errors=[{"field": "ends_at"}]
        )
    if ends_at <= now:
        raise ApiProblem(
            422, "invalid_window", "ends_at: must be in the future", errors=[{"field": "ends_at"}]
        )


def expire(session: Session, row: Silence | CampaignWindow, now: datetime) -> None:
    """Not started yet: delete. Running: end it now. Already over: leave it as it was."""
    if row.starts_at > now:
        session.delete(row)
    elif row.ends_at > now:
        row.ends_at = now


@router.get("/silences", response_model=Page[SilenceOut])
def list_silences(
    brand_id: int | None = None,
    active: bool | None = Query(None, description="true: only those in force now; false: only the others"),
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = None,
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("read")),
) -> Page[SilenceOut]:
    """Newest first."""
    query = limit_to_brands(select(Silence), principal, Silence.brand_id)
    if brand_id is not None:
        ensure_brand_access(principal, brand_id)
        query = query.where(Silence.brand_id == brand_id)
    if active is not None:
        now = context.clock()
        in_force = (Silence.starts_at <= now) & (Silence.ends_at > now)
        query = query.where(in_force if active else ~in_force)
    rows, next_cursor = page_by_id(session, query, Silence.id, limit, cursor)
    return Page[SilenceOut](items=[SilenceOut.model_validate(r) for r in rows], next_cursor=next_cursor)


def _create_window(
    model: type[Silence] | type[CampaignWindow],
    body: SilenceIn | CampaignWindowIn,
    context: ApiContext,
    principal: Principal,
) -> Silence | CampaignWindow:
    """Silences and campaign windows are both muting windows: same checks, same bookkeeping."""
    now = context.clock()
    starts_at = body.starts_at or now
    check_window(starts_at, body.ends_at, now)
    with context.factory() as session, session.begin():
        check_brand(session, body.brand_id)
        ensure_brand_access(principal, body.brand_id)
        row = model(
            **body.model_dump(exclude={"starts_at"}),
            starts_at=starts_at,
            created_by=principal.name,
            created_at=now,
        )
        session.add(row)
        session.flush()
        return row


@router.post("/silences", response_model=SilenceOut, status_code=201, responses=IDEMPOTENT_RESPONSES)
def create_silence(
    body: SilenceIn,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("write")),
    idempotent: IdempotentRequest = Depends(idempotency_key),
) -> JSONResponse:
    return run_idempotent(
        context,
        principal,
        idempotent,
        lambda: SilenceOut.model_validate(_create_window(Silence, body, context, principal)),
    )


@router.delete("/silences/{silence_id}", status_code=204)
def delete_silence(
    silence_id: int,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("write")),
) -> Response:
    with context.factory() as session, session.begin():
        silence = session.get(Silence, silence_id)
        if silence is None:
            raise ApiProblem(404, "not_found", f"no silence with id {silence_id}")
        ensure_brand_access(principal, silence.brand_id)
        expire(session, silence, context.clock())
    return Response(status_code=204)


@router.get("/campaign-windows", response_model=Page[CampaignWindowOut])
def list_campaign_windows(
    brand_id: int | None = None,
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = None,
    session: Session = Depends(get_session),
    principal: Principal = Depends(require("read")),
) -> Page[CampaignWindowOut]:
    """Newest first."""
    query = limit_to_brands(select(CampaignWindow), principal, CampaignWindow.brand_id)
    if brand_id is not None:
        ensure_brand_access(principal, brand_id)
        query = query.where(CampaignWindow.brand_id == brand_id)
    rows, next_cursor = page_by_id(session, query, CampaignWindow.id, limit, cursor)
    return Page[CampaignWindowOut](
        items=[CampaignWindowOut.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.post(
    "/campaign-windows", response_model=CampaignWindowOut, status_code=201, responses=IDEMPOTENT_RESPONSES
)
def create_campaign_window(
    body: CampaignWindowIn,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("write")),
    idempotent: IdempotentRequest = Depends(idempotency_key),
) -> JSONResponse:
    """Expect a spike (a launch, a campaign): incidents inside are recorded, not paged, and summarised
    once the window ends."""
    return run_idempotent(
        context,
        principal,
        idempotent,
        lambda: CampaignWindowOut.model_validate(_create_window(CampaignWindow, body, context, principal)),
    )


@router.delete("/campaign-windows/{window_id}", status_code=204)
def delete_campaign_window(
    window_id: int,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("write")),
) -> Response:
    with context.factory() as session, session.begin():
        window = session.get(CampaignWindow, window_id)
        if window is None:
            raise ApiProblem(404, "not_found", f"no campaign window with id {window_id}")
        ensure_brand_access(principal, window.brand_id)
        expire(session, window, context.clock())
    return Response(status_code=204)
