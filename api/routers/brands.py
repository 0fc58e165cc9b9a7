"""/api/v1/brands: who is watched."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal, require
from api.context import ApiContext, get_context, get_session
from api.problems import ApiProblem
from api.schemas import BrandIn, BrandOut, BucketOut
from storage.brands import Brand
from storage.mentions import Bucket

router = APIRouter(prefix="/api/v1/brands", tags=["brands"])


@router.get("", response_model=list[BrandOut])
def list_brands(
    session: Session = Depends(get_session), _: Principal = Depends(require("read"))
) -> list[Brand]:
    return list(session.scalars(select(Brand).order_by(Brand.id)))


@router.post("", response_model=BrandOut, status_code=201)
def create_brand(
    body: BrandIn, context: ApiContext = Depends(get_context), _: Principal = Depends(require("write"))
) -> Brand:
    now = context.clock()
    with context.factory() as session, session.begin():
        if session.scalars(select(Brand).where(Brand.name == body.name)).first() is not None:
            raise ApiProblem(409, "brand_exists", f"a brand named {body.name!r} already exists")
        brand = Brand(**body.model_dump(), created_at=now, updated_at=now)
        session.add(brand)
        session.flush()
        return brand


@router.get("/{brand_id}", response_model=BrandOut)
def get_brand(
    brand_id: int, session: Session = Depends(get_session), _: Principal = Depends(require("read"))
) -> Brand:
    brand = session.get(Brand, brand_id)
    if brand is None:
        raise ApiProblem(404, "not_found", f"no brand with id {brand_id}")
    return brand


@router.get("/{brand_id}/buckets", response_model=list[BucketOut])
def brand_buckets(
    brand_id: int,
    since: datetime | None = Query(None, description="ISO 8601, default 24 h ago"),
    until: datetime | None = Query(None),
    session: Session = Depends(get_session),
    context: ApiContext = Depends(get_context),
    _: Principal = Depends(require("read")),
) -> list[BucketOut]:
    if session.get(Brand, brand_id) is None:
        raise ApiProblem(404, "not_found", f"no brand with id {brand_id}")
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
