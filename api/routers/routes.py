"""/api/v1/notification-routes: escalation steps — who hears about which incidents, and when."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.alerting_schemas import RouteIn, RouteOut
from api.auth import Principal, ensure_brand_access, limit_to_brands, require
from api.context import ApiContext, get_context, get_session
from api.idempotency import IDEMPOTENT_RESPONSES, IdempotentRequest, idempotency_key, run_idempotent
from api.problems import ApiProblem
from api.routers.listing import page_by_id
from api.routers.muting import check_brand
from api.schemas import Page
from storage.notifications import NotificationRoute

router = APIRouter(prefix="/api/v1/notification-routes", tags=["notifications"])


@router.get("", response_model=Page[RouteOut])
def list_routes(
    brand_id: int | None = None,
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = None,
    session: Session = Depends(get_session),
    principal: Principal = Depends(require("read")),
) -> Page[RouteOut]:
    """Newest first. While none exist, the routes from the settings (NOROSHI_SLACK_CHANNEL, …) apply."""
    query = limit_to_brands(select(NotificationRoute), principal, NotificationRoute.brand_id)
    if brand_id is not None:
        ensure_brand_access(principal, brand_id)
        query = query.where(NotificationRoute.brand_id == brand_id)
    rows, next_cursor = page_by_id(session, query, NotificationRoute.id, limit, cursor)
    return Page[RouteOut](items=[RouteOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("", response_model=RouteOut, status_code=201, responses=IDEMPOTENT_RESPONSES)
def create_route(
    body: RouteIn,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("admin")),
    idempotent: IdempotentRequest = Depends(idempotency_key),
) -> JSONResponse:
    """Add a step, e.g. Slack at once, a person after 15 minutes unacknowledged, e-mail after 60.
    For `channel` webhook, `target` is a webhook subscription id."""

    def create() -> RouteOut:
        with context.factory() as session, session.begin():
            check_brand(session, body.brand_id)
            ensure_brand_access(principal, body.brand_id)
            route = NotificationRoute(**body.model_dump(), created_at=context.clock())
            session.add(route)
            session.flush()
            return RouteOut.model_validate(route)

    return run_idempotent(context, principal, idempotent, create)


@router.delete("/{route_id}", status_code=204)
def delete_route(
    route_id: int,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("admin")),
) -> Response:
    with context.factory() as session, session.begin():
        route = session.get(NotificationRoute, route_id)
        if route is None:
            raise ApiProblem(404, "not_found", f"no notification route with id {route_id}")
        ensure_brand_access(principal, route.brand_id)
        session.delete(route)
    return Response(status_code=204)
