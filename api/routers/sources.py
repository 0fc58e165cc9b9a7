"""/api/v1/sources: where mentions come from, with their health."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal, require
from api.context import ApiContext, get_context, get_session
from api.idempotency import IDEMPOTENT_RESPONSES, IdempotentRequest, idempotency_key, run_idempotent
from api.problems import ApiProblem
from api.routers.listing import page_by_id
from api.schemas import Page, SourceIn, SourceOut
from api.source_schemas import SourcePatch
from collectors.sources.base import SourceConfigError, validate_source_settings
from storage.sources import Source

router = APIRouter(prefix="/api/v1/sources", tags=["sources"])

NAME_MAX = 200


def _live(session: Session, source_id: int) -> Source:
    """The source unless it does not exist or was deleted (both 404: a deleted one is gone for the API)."""
    source = session.get(Source, source_id)
    if source is None or source.deleted_at is not None:
        raise ApiProblem(404, "not_found", f"no source with id {source_id}")
    return source


def _ensure_name_free(session: Session, name: str, source_id: int | None = None) -> None:
    query = select(Source.id).where(Source.name == name)
    if source_id is not None:
        query = query.where(Source.id != source_id)
    if session.scalars(query).first() is not None:
        raise ApiProblem(409, "source_exists", f"a source named {name!r} already exists")


def _validated_settings(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    try:
        return validate_source_settings(kind, settings)
    except SourceConfigError as exc:
        raise ApiProblem(422, "invalid_source", str(exc)) from None


@router.get("", response_model=Page[SourceOut])
def list_sources(
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = None,
    session: Session = Depends(get_session),
    _: Principal = Depends(require("read")),
) -> Page[SourceOut]:
    """Newest first (by id). Deleted sources are not listed."""
    query = select(Source).where(Source.deleted_at.is_(None))
    rows, next_cursor = page_by_id(session, query, Source.id, limit, cursor)
    return Page[SourceOut](items=[SourceOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("", response_model=SourceOut, status_code=201, responses=IDEMPOTENT_RESPONSES)
def create_source(
    body: SourceIn,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("admin")),
    idempotent: IdempotentRequest = Depends(idempotency_key),
) -> JSONResponse:
    settings = _validated_settings(body.kind, body.settings)

    def create() -> SourceOut:
        with context.factory() as session, session.begin():
            _ensure_name_free(session, body.name)
            source = Source(
                name=body.name,
                kind=body.kind,
                settings=settings,
                interval_seconds=body.interval_seconds,
                enabled=body.enabled,
                created_at=context.clock(),
            )
            session.add(source)
            session.flush()
            return SourceOut.model_validate(source)

    return run_idempotent(context, principal, idempotent, create)


@router.get("/{source_id}", response_model=SourceOut)
def get_source(
    source_id: int, session: Session = Depends(get_session), _: Principal = Depends(require("read"))
) -> Source:
    return _live(session, source_id)


def _restart_collection(source: Source) -> None:
    """New settings may point elsewhere (another feed URL, another query): the cursor (seen ids, the
    feed's ETag), the backfill watermark and the failure backoff described the old ones."""
    source.cursor = None
    source.watermark = None
    source.exhausted = False
    source.consecutive_failures = 0
    source.next_run_at = None


@router.patch("/{source_id}", response_model=SourceOut)
def update_source(
    source_id: int,
    body: SourcePatch,
    context: ApiContext = Depends(get_context),
    _: Principal = Depends(require("admin")),
) -> SourceOut:
    """Enable or disable, rename, change the interval or the settings; omitted or null fields stay.
    Disabling stops collection from the next scheduling round; mentions already stored stay. Changed
    settings restart collection from scratch (cursor, backfill watermark and failure backoff are reset);
    re-enabling clears the failure backoff so it runs at the next round."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)  # null: leave as is
    with context.factory() as session, session.begin():
        source = _live(session, source_id)
        if "name" in changes:
            _ensure_name_free(session, changes["name"], source_id)
        if "settings" in changes:
            changes["settings"] = _validated_settings(source.kind, changes["settings"])
            if changes["settings"] != source.settings:
                _restart_collection(source)
        if changes.get("enabled") and not source.enabled:
            source.next_run_at = None
        for field, value in changes.items():
            setattr(source, field, value)
        session.flush()
        return SourceOut.model_validate(source)


def _deleted_name(source: Source) -> str:
    """Frees the name for a new source while keeping the old one readable in the database."""
    suffix = f" (deleted #{source.id})"
    return source.name[: NAME_MAX - len(suffix)] + suffix


def soft_delete(source: Source, now: datetime) -> None:
    source.enabled = False
    source.deleted_at = now
    source.name = _deleted_name(source)
    # The lease is left alone: a worker collecting it right now finishes its run and releases it.


@router.delete("/{source_id}", status_code=204)
def delete_source(
    source_id: int,
    context: ApiContext = Depends(get_context),
    _: Principal = Depends(require("admin")),
) -> Response:
    """Stop collecting from a source and remove it from the API; afterwards it is 404 and not listed, and
    its name is free for a new source. The mentions collected from it are kept: they belong to the brands
    they were matched to (and their buckets and incidents are unaffected). Because each mention refers to
    its source, the row is not removed but disabled and marked deleted."""
    with context.factory() as session, session.begin():
        soft_delete(_live(session, source_id), context.clock())
    return Response(status_code=204)
