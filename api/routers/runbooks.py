"""/api/v1/brands/{id}/runbooks: the effective runbook per kind × severity × locale, and the brand's
overrides (Markdown + Jinja, checked by rendering against sample variables before they are saved)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.runbooks import (
    HERE,
    KINDS,
    LOCALES,
    SEVERITIES,
    RunbookTemplateError,
    default_name,
    validate_template,
)
from api.alerting_schemas import Locale, RunbookIn, RunbookOut, Severity
from api.auth import Principal, require
from api.context import ApiContext, get_context, get_session
from api.lookups import visible_brand
from api.problems import ApiProblem
from storage.muting import RunbookOverride

router = APIRouter(prefix="/api/v1/brands", tags=["runbooks"])


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ApiProblem(
            422, "validation_error", f"kind: must be one of {', '.join(KINDS)}", errors=[{"field": "kind"}]
        )
    return kind


def _effective(overrides: list[RunbookOverride], kind: str, severity: str, locale: str) -> RunbookOut:
    """The same choice as alerting.runbooks: an override for this severity, then one for the whole kind,
    then the shipped default."""
    specificity = {severity: 0, None: 1}
    matching = [o for o in overrides if o.kind == kind and o.locale == locale and o.severity in specificity]
    chosen = min(matching, key=lambda o: specificity[o.severity], default=None)
    if chosen is None:
        template = (HERE / default_name(kind, severity, locale)).read_text(encoding="utf-8")
        return RunbookOut(kind=kind, severity=severity, locale=locale, source="default", template=template)
    return RunbookOut(
        kind=kind,
        severity=severity,
        locale=locale,
        source="override",
        override_id=chosen.id,
        override_severity=chosen.severity,
        template=chosen.template,
        updated_by=chosen.updated_by,
        updated_at=chosen.updated_at,
    )


@router.get("/{brand_id}/runbooks", response_model=list[RunbookOut])
def list_runbooks(
    brand_id: int, session: Session = Depends(get_session), principal: Principal = Depends(require("read"))
) -> list[RunbookOut]:
    """Every kind × severity × locale with the runbook that applies, marking the brand's overrides."""
    visible_brand(session, brand_id, principal)
    overrides = list(session.scalars(select(RunbookOverride).where(RunbookOverride.brand_id == brand_id)))
    return [
        _effective(overrides, kind, severity, locale)
        for kind in KINDS
        for severity in SEVERITIES
        for locale in LOCALES
    ]


@router.put("/{brand_id}/runbooks/{kind}", response_model=RunbookOut)
def put_runbook(
    brand_id: int,
    kind: str,
    body: RunbookIn,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("write")),
) -> RunbookOut:
    """Create or replace the brand's override for `kind` in `locale` (and `severity`, or every severity).
    The template must render with the documented variables (see alerting.runbooks)."""
    _kind(kind)
    try:
        validate_template(body.template)
    except RunbookTemplateError as exc:
        raise ApiProblem(
            422, "invalid_template", f"template: {exc}", errors=[{"field": "template", "message": str(exc)}]
        ) from None
    now = context.clock()
    with context.factory() as session, session.begin():
        visible_brand(session, brand_id, principal)
        row = _find(session, brand_id, kind, body.locale, body.severity)
        if row is None:
            row = RunbookOverride(brand_id=brand_id, kind=kind, severity=body.severity, locale=body.locale)
            session.add(row)
        row.template, row.updated_by, row.updated_at = body.template, principal.name, now
        session.flush()
        return _effective([row], kind, body.severity or SEVERITIES[0], body.locale)


@router.delete("/{brand_id}/runbooks/{kind}", status_code=204)
def delete_runbook(
    brand_id: int,
    kind: str,
    locale: Locale = Query(...),
    severity: Severity | None = Query(None, description="omit for the override that covers every severity"),
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("write")),
) -> Response:
    """Remove an override; the shipped default (or a less specific override) applies again."""
    _kind(kind)
    with context.factory() as session, session.begin():
        visible_brand(session, brand_id, principal)
        row = _find(session, brand_id, kind, locale, severity)
        if row is None:
            raise ApiProblem(
                404, "not_found", f"brand {brand_id} has no {kind} override for that locale/severity"
            )
        session.delete(row)
    return Response(status_code=204)


def _find(
    session: Session, brand_id: int, kind: str, locale: str, severity: str | None
) -> RunbookOverride | None:
    severity_match = (
        RunbookOverride.severity.is_(None) if severity is None else RunbookOverride.severity == severity
    )
    return session.scalars(
        select(RunbookOverride).where(
            RunbookOverride.brand_id == brand_id,
            RunbookOverride.kind == kind,
            RunbookOverride.locale == locale,
            severity_match,
        )
    ).first()
