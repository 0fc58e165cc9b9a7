"""/api/v1/brands: who is watched."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Query, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth import Principal, ensure_brand_access, limit_to_brands, require
from api.brand_schemas import BrandIn, BrandOut, BrandPatch
from api.context import ApiContext, get_context, get_session
from api.idempotency import IDEMPOTENT_RESPONSES, IdempotentRequest, idempotency_key, run_idempotent
from api.lookups import visible_brand
from api.problems import ApiProblem, ensure_aware
from api.routers.listing import page_by_id
from api.schemas import BucketOut, Page
from storage.api_keys import ApiKey
from storage.brands import Brand
from storage.incidents import Incident
from storage.mentions import Bucket, MentionBrand

router = APIRouter(prefix="/api/v1/brands", tags=["brands"])


@router.get("", response_model=Page[BrandOut])
def list_brands(
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = None,
    session: Session = Depends(get_session),
    principal: Principal = Depends(require("read")),
) -> Page[BrandOut]:
    """Newest first (by id)."""
    query = limit_to_brands(select(Brand), principal, Brand.id)
    rows, next_cursor = page_by_id(session, query, Brand.id, limit, cursor)
    return Page[BrandOut](items=[BrandOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("", response_model=BrandOut, status_code=201, responses=IDEMPOTENT_RESPONSES)
def create_brand(
    body: BrandIn,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("write")),
    idempotent: IdempotentRequest = Depends(idempotency_key),
) -> JSONResponse:
    """A brand-limited key cannot create brands (403 `brand_forbidden`): the new brand is not one of its."""
    ensure_brand_access(principal, None)
    now = context.clock()

    def create() -> BrandOut:
        with context.factory() as session, session.begin():
            if session.scalars(select(Brand).where(Brand.name == body.name)).first() is not None:
                raise ApiProblem(409, "brand_exists", f"a brand named {body.name!r} already exists")
            brand = Brand(**body.model_dump(), created_at=now, updated_at=now)
            session.add(brand)
            session.flush()
            return BrandOut.model_validate(brand)

    return run_idempotent(context, principal, idempotent, create)


@router.get("/{brand_id}", response_model=BrandOut)
def get_brand(
    brand_id: int, session: Session = Depends(get_session), principal: Principal = Depends(require("read"))
) -> Brand:
    return visible_brand(session, brand_id, principal)


@router.patch("/{brand_id}", response_model=BrandOut)
def update_brand(
    brand_id: int,
    body: BrandPatch,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("write")),
) -> BrandOut:
    """Change keywords, exclusions, languages, sensitivity, locale or name; matching and detection use
    the new values from the next post and the next tick. The result is checked as a whole (e.g. the
    exclusions against the keywords), like a new brand."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)  # null: leave as is
    with context.factory() as session, session.begin():
        brand = visible_brand(session, brand_id, principal)
        current = BrandOut.model_validate(brand).model_dump(include=set(BrandIn.model_fields))
        try:
            merged = BrandIn.model_validate({**current, **changes})
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None
        taken = session.scalars(select(Brand.id).where(Brand.name == merged.name, Brand.id != brand_id))
        if taken.first() is not None:
            raise ApiProblem(409, "brand_exists", f"a brand named {merged.name!r} already exists")
        for field in changes:
            setattr(brand, field, getattr(merged, field))
        brand.updated_at = context.clock()
        session.flush()
        return BrandOut.model_validate(brand)


def _what_deletion_removes(session: Session, brand_id: int) -> dict[str, int]:
    def count(column: object) -> int:
        return int(session.scalar(select(func.count()).where(column == brand_id)) or 0)

    return {
        "incidents": count(Incident.brand_id),
        "buckets": count(Bucket.brand_id),
        "mention_links": count(MentionBrand.brand_id),
    }


def _forget_in_api_keys(session: Session, brand_id: int) -> None:
    """Brand-limited keys list brand ids in JSON (no foreign key). SQLite may hand the id of the newest
    brand to the next one created, so a key left naming a deleted brand could see a stranger's brand.
    An emptied list stays a list: the key then sees no brand (None would mean every brand)."""
    for key in session.scalars(select(ApiKey).where(ApiKey.brand_ids.is_not(None))):
        if brand_id in (key.brand_ids or []):
            key.brand_ids = [b for b in key.brand_ids or [] if b != brand_id]


@router.delete("/{brand_id}", status_code=204)
def delete_brand(
    brand_id: int,
    confirm: bool = Query(False, description="must be true: the deletion cannot be undone"),
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("write")),
) -> Response:
    """Delete a brand for good, with everything that is only about it: its incidents (with their
    timelines and notifications), buckets, silences, campaign windows, runbook overrides, notification
    routes and webhook subscriptions. Stored mentions stay (they came from sources and may be about
    other brands) but are no longer counted for this brand. There is no archive: without `confirm=true`
    the answer is 409 `confirmation_required`, with `would_delete` counting the incidents, buckets and
    mention links that would go. Like creation, it needs a key not limited to brands (else 403
    `brand_forbidden`); keys limited to this brand lose it from their list."""
    # Hard delete rather than archive: archiving would need the detection tick, collection matching and
    # every list to skip archived brands; the confirm guard protects the incident history instead.
    ensure_brand_access(principal, None)
    with context.factory() as session, session.begin():
        brand = session.get(Brand, brand_id)
        if brand is None:
            raise ApiProblem(404, "not_found", f"no brand with id {brand_id}")
        if not confirm:
            removes = _what_deletion_removes(session, brand_id)
            raise ApiProblem(
                409,
                "confirmation_required",
                f"deleting brand {brand_id} also deletes its {removes['incidents']} incidents and "
                f"{removes['buckets']} buckets and cannot be undone; repeat with ?confirm=true",
                would_delete=removes,
            )
        # The database cascades to every table that refers to the brand (ON DELETE CASCADE).
        session.delete(brand)
        _forget_in_api_keys(session, brand_id)
    return Response(status_code=204)


@router.get("/{brand_id}/buckets", response_model=list[BucketOut])
def brand_buckets(
    brand_id: int,
    since: datetime | None = Query(None, description="ISO 8601, default 24 h ago"),
    until: datetime | None = Query(None),
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("read")),
) -> list[BucketOut]:
    visible_brand(session, brand_id, principal)
    ensure_aware(since=since, until=until)
    until = until or context.clock()
    since = since or until - timedelta(days=1)
    rows = session.scalars(
        select(Bucket)
        .where(Bucket.brand_id == brand_id, Bucket.start >= since, Bucket.start <= until)
        .order_by(Bucket.start)
        .limit(20_000)
    )
    return [
        BucketOut(start=b.start, total=b.total, negative=b.negative, reach=b.reach, authors=b.authors)
        for b in rows
    ]
