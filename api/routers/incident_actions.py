"""/api/v1/incidents/{id}/…: acknowledge, resolve, snooze, comment, and the timeline.

Each action runs `alerting.actions.IncidentActions` in one transaction, so the timeline entry and the
notifications to targets already told about the incident commit together (or not at all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.actions import (
    ActionInputError,
    ActionResult,
    IncidentActions,
    IncidentNotFound,
    TransitionError,
)
from api.alerting_schemas import ActionIn, ActionOut, CommentIn, SnoozeIn, TimelineEventOut
from api.auth import Principal, ensure_brand_access, require
from api.context import ApiContext, get_context, get_session
from api.idempotency import IDEMPOTENT_RESPONSES, IdempotentRequest, idempotency_key, run_idempotent
from api.lookups import visible_incident
from api.problems import ApiProblem
from api.routers.incidents import incident_out
from api.routers.listing import page_by_id
from api.schemas import Page
from storage.incidents import Incident, IncidentEvent

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
Act = Callable[[IncidentActions, Session, str, datetime], ActionResult]


def actor_of(principal: Principal) -> str:
    """Timeline actor for an API caller: the key's name, marked as coming through the API."""
    return f"api:{principal.name}"


@contextmanager
def _mapped_errors(incident_id: int) -> Iterator[None]:
    """The action layer's errors as problem+json: unknown incident, disallowed transition, bad input."""
    try:
        yield
    except IncidentNotFound:
        raise ApiProblem(404, "not_found", f"no incident with id {incident_id}") from None
    except TransitionError as exc:
        raise ApiProblem(409, "invalid_transition", str(exc)) from None
    except ActionInputError as exc:
        raise ApiProblem(
            422, "validation_error", str(exc), errors=[{"field": exc.field, "message": str(exc)}]
        ) from None


def _run(context: ApiContext, incident_id: int, principal: Principal, act: Act) -> ActionOut:
    if context.actions is None:
        raise ApiProblem(503, "actions_unavailable", "incident actions are not configured in this process")
    actions, now = context.actions, context.clock()
    with _mapped_errors(incident_id), context.factory() as session, session.begin():
        incident = session.get(Incident, incident_id)
        if incident is not None:  # a missing one is the action layer's 404
            ensure_brand_access(principal, incident.brand_id)
        result = act(actions, session, actor_of(principal), now)
        return ActionOut(
            incident=incident_out(result.incident, context),
            event=TimelineEventOut.model_validate(result.event),
            notifications_enqueued=len(result.notifications),
        )


@router.post("/{incident_id}/acknowledge", response_model=ActionOut)
def acknowledge(
    incident_id: int,
    body: ActionIn | None = None,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("write")),
) -> ActionOut:
    """Someone is on it: stops escalation; reminders continue until resolved."""
    note = body.note if body else None
    return _run(
        context, incident_id, principal, lambda a, s, who, now: a.acknowledge(s, incident_id, who, now, note)
    )


@router.post("/{incident_id}/resolve", response_model=ActionOut)
def resolve(
    incident_id: int,
    body: ActionIn | None = None,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("write")),
) -> ActionOut:
    note = body.note if body else None
    return _run(
        context, incident_id, principal, lambda a, s, who, now: a.resolve(s, incident_id, who, now, note)
    )


@router.post("/{incident_id}/snooze", response_model=ActionOut)
def snooze(
    incident_id: int,
    body: SnoozeIn,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("write")),
) -> ActionOut:
    """Quiet until `until` (ISO 8601 with a timezone) or for `minutes`; it comes back triggered."""

    def act(a: IncidentActions, s: Session, who: str, now: datetime) -> ActionResult:
        until = body.until if body.until is not None else now + timedelta(minutes=body.minutes or 0)
        return a.snooze(s, incident_id, who, until, now, body.note)

    return _run(context, incident_id, principal, act)


@router.post("/{incident_id}/comment", response_model=ActionOut, responses=IDEMPOTENT_RESPONSES)
def comment(
    incident_id: int,
    body: CommentIn,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("write")),
    idempotent: IdempotentRequest = Depends(idempotency_key),
) -> JSONResponse:
    """Add a comment to the timeline; send an Idempotency-Key so a retry does not comment twice."""
    return run_idempotent(
        context,
        principal,
        idempotent,
        lambda: _run(
            context,
            incident_id,
            principal,
            lambda a, s, who, now: a.comment(s, incident_id, who, body.text, now),
        ),
        status_code=200,
    )


@router.get("/{incident_id}/timeline", response_model=Page[TimelineEventOut])
def timeline(
    incident_id: int,
    limit: int = Query(100, ge=1, le=500),
    cursor: str | None = None,
    session: Session = Depends(get_session),
    principal: Principal = Depends(require("read")),
) -> Page[TimelineEventOut]:
    """The incident's timeline, newest first."""
    visible_incident(session, incident_id, principal)
    query = select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
    rows, next_cursor = page_by_id(session, query, IncidentEvent.id, limit, cursor)
    return Page[TimelineEventOut](
        items=[TimelineEventOut.model_validate(r) for r in rows], next_cursor=next_cursor
    )
