"""/api/v1/sources: where mentions come from, with their health."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal, require
from api.context import ApiContext, get_context, get_session
from api.idempotency import IDEMPOTENT_RESPONSES, IdempotentRequest, idempotency_key, run_idempotent
from api.problems import ApiProblem
from api.schemas import SourceIn, SourceOut
from collectors.sources.base import SourceConfigError, validate_source_settings
from storage.sources import Source

router = APIRouter(prefix="/api/v1/sources", tags=["sources"])


@router.get("", response_model=list[SourceOut])
def list_sources(
    session: Session = Depends(get_session), _: Principal = Depends(require("read"))
) -> list[Source]:
    return list(session.scalars(select(Source).order_by(Source.id)))


@router.post("", response_model=SourceOut, status_code=201, responses=IDEMPOTENT_RESPONSES)
def create_source(
    body: SourceIn,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("admin")),
    idempotent: IdempotentRequest = Depends(idempotency_key),
) -> JSONResponse:
    try:
        settings = validate_source_settings(body.kind, body.settings)
    except SourceConfigError as exc:
        raise ApiProblem(422, "invalid_source", str(exc)) from None

    def create() -> SourceOut:
        with context.factory() as session, session.begin():
            if session.scalars(select(Source).where(Source.name == body.name)).first() is not None:
                raise ApiProblem(409, "source_exists", f"a source named {body.name!r} already exists")
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
    source = session.get(Source, source_id)
    if source is None:
        raise ApiProblem(404, "not_found", f"no source with id {source_id}")
    return source
