"""/api/v1/incidents: what the detectors opened (read-only here; actions come with alerting)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal, require
from api.context import ApiContext, get_context, get_session
from api.pagination import decode_cursor, encode_cursor
from api.problems import ApiProblem
from api.schemas import IncidentOut, Page
from storage.incidents import Incident

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


def incident_out(incident: Incident, context: ApiContext) -> IncidentOut:
    out = IncidentOut.model_validate(incident)
    out.url = f"{context.public_url.rstrip('/')}/incidents/{incident.id}"
    return out


@router.get("", response_model=Page[IncidentOut])
def list_incidents(
    brand_id: int | None = None,
    status: str | None = None,
    kind: str | None = None,
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = None,
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
    _: Principal = Depends(require("read")),
) -> Page[IncidentOut]:
    """Newest first."""
    query = select(Incident)
    for column, value in ((Incident.brand_id, brand_id), (Incident.status, status), (Incident.kind, kind)):
        if value is not None:
            query = query.where(column == value)
    after = decode_cursor(cursor)
    if after is not None:
        try:
            query = query.where(Incident.id < int(after[0]))
        except (IndexError, TypeError, ValueError):
            raise ApiProblem(400, "invalid_cursor", "the cursor is not one this API returned") from None
    rows = list(session.scalars(query.order_by(Incident.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return Page[IncidentOut](items=[incident_out(r, context) for r in rows[:limit]], next_cursor=next_cursor)


@router.get("/{incident_id}", response_model=IncidentOut)
def get_incident(
    incident_id: int,
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
    _: Principal = Depends(require("read")),
) -> IncidentOut:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise ApiProblem(404, "not_found", f"no incident with id {incident_id}")
    return incident_out(incident, context)
