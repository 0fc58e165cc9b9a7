"""/api/v1/brands: who is watched."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal, ensure_brand_access, limit_to_brands, require
from api.context import ApiContext, get_context, get_session
from api.idempotency import IDEMPOTENT_RESPONSES, IdempotentRequest, idempotency_key, run_idempotent
from api.problems import ApiProblem
from api.schemas import BrandIn, BrandOut, BrandPatch, BucketOut
from storage.brands import Brand
from storage.mentions import Bucket

router = APIRouter(prefix="/api/v1/brands", tags=["brands"])


@router.get("", response_model=list[BrandOut])
def list_brands(
    session: Session = Depends(get_session), principal: Principal = Depends(require("read"))
) -> list[Brand]:
    return list(session.scalars(limit_to_brands(select(Brand), principal, Brand.id).order_by(Brand.id)))


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
    brand = session.get(Brand, brand_id)
    if brand is None:
        raise ApiProblem(404, "not_found", f"no brand with id {brand_id}")
    ensure_brand_access(principal, brand_id)
    return brand


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
        brand = session.get(Brand, brand_id)
        if brand is None:
            raise ApiProblem(404, "not_found", f"no brand with id {brand_id}")
        ensure_brand_access(principal, brand_id)
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


@router.get("/{brand_id}/buckets", response_model=list[BucketOut])
def brand_buckets(
    brand_id: int,
    since: datetime | None = Query(None, description="ISO 8601, default 24 h ago"),
    until: datetime | None = Query(None),
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("read")),
) -> list[BucketOut]:
    if session.get(Brand, brand_id) is None:
        raise ApiProblem(404, "not_found", f"no brand with id {brand_id}")
    ensure_brand_access(principal, brand_id)
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ApiProblem(422, "validation_error", f"{name}: give a timezone (e.g. 2026-11-21T05:00:00Z)")
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
