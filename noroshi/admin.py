"""Administrative actions shared by the CLI: keys and brands, validated like the API validates them."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import select

from api.auth import create_api_key
from api.schemas import BrandIn
from noroshi.settings import Settings
from storage.brands import Brand
from storage.engine import make_engine, make_session_factory, transaction


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors())


def create_key(settings: Settings, name: str, scopes: list[str]) -> str:
    factory = make_session_factory(make_engine(settings.database_url))
    with transaction(factory) as session:
        _, secret = create_api_key(session, name, scopes, datetime.now(UTC))
    return secret


def add_brand(settings: Settings, **fields: object) -> int:
    try:
        body = BrandIn.model_validate(fields)
    except ValidationError as exc:
        raise ValueError(_describe(exc)) from None
    now = datetime.now(UTC)
    factory = make_session_factory(make_engine(settings.database_url))
    with transaction(factory) as session:
        if session.scalars(select(Brand).where(Brand.name == body.name)).first() is not None:
            raise ValueError(f"name: a brand named {body.name!r} already exists")
        brand = Brand(**body.model_dump(), created_at=now, updated_at=now)
        session.add(brand)
        session.flush()
        return brand.id
