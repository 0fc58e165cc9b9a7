"""/api/v1/incidents: what the detectors opened (read-only here; actions come with alerting)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.alerting_schemas import Kind, Severity
from api.auth import Principal, ensure_brand_access, limit_to_brands, require
from api.context import ApiContext, get_context, get_session
from api.lookups import visible_incident
from api.pagination import decode_cursor, encode_cursor
from api.problems import ApiProblem, ensure_aware
from api.schemas import IncidentOut, Page
from storage.incidents import Incident

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


def incident_out(incident: Incident, context: ApiContext) -> IncidentOut:
    out = IncidentOut.model_validate(incident)
    out.url = f"{context.public_url.rstrip('/')}/incidents/{incident.id}"
    return out


IncidentStatus = Literal["triggered", "acknowledged", "snoozed", "resolved"]


def _filtered(
    query: Select[tuple[Incident]],
    equal: tuple[tuple[Any, str | int | None], ...],
    since: datetime | None,
    until: datetime | None,
) -> Select[tuple[Incident]]:
    for column, value in equal:
        if value is not None:
            query = query.where(column == value)
    ensure_aware(since=since, until=until)
    if since is not None:
        query = query.where(Incident.started_at >= since)
    if until is not None:
        query = query.where(Incident.started_at < until)
    return query


@router.get("", response_model=Page[IncidentOut])
def list_incidents(
    brand_id: int | None = None,
    status: IncidentStatus | None = None,
    severity: Severity | None = None,
    kind: Kind | None = None,
    since: datetime | None = Query(None, description="only incidents that started at or after (ISO 8601)"),
    until: datetime | None = Query(None, description="only incidents that started before (ISO 8601)"),
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = None,
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("read")),
) -> Response:
    """Newest first (by id: the order they were opened)."""
    if brand_id is not None:
        ensure_brand_access(principal, brand_id)
    query = limit_to_brands(select(Incident), principal, Incident.brand_id)
    equal = ((Incident.brand_id, brand_id), (Incident.status, status), (Incident.severity, severity))
    query = _filtered(query, (*equal, (Incident.kind, kind)), since, until)
    after = decode_cursor(cursor)
    if after is not None:
        try:
            query = query.where(Incident.id < int(after[0]))
        except (IndexError, TypeError, ValueError):
            raise ApiProblem(400, "invalid_cursor", "the cursor is not one this API returned") from None
    rows = list(session.scalars(query.order_by(Incident.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    page = Page[IncidentOut](items=[incident_out(r, context) for r in rows[:limit]], next_cursor=next_cursor)
    # Serialised once here: handing FastAPI the model would dump, re-validate and dump it again
    # (a third of this endpoint's time at polling rates, see benchmarks/api_latency.py).
    return Response(page.model_dump_json(), media_type="application/json")


@router.get("/{incident_id}", response_model=IncidentOut)
def get_incident(
    incident_id: int,
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("read")),
) -> IncidentOut:
    return incident_out(visible_incident(session, incident_id, principal), context)
