"""Administrative actions shared by the CLI: keys, brands and bucket rebuilds, validated like the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import func, select

from api.auth import create_api_key
from api.brand_schemas import BrandIn
from api.key_schemas import ApiKeyIn
from collectors.buckets import first_rebuilt_bucket, rebuild_buckets
from noroshi.settings import Settings
from storage.brands import Brand, unknown_brands
from storage.engine import make_engine, make_session_factory, transaction
from storage.mentions import Mention


class InvalidField(ValueError):
    """A rejected value, with the input field it came from (so the CLI can name its option)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class CreatedKey:
    id: int
    secret: str
    scopes: list[str]
    brand_ids: list[int] | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class RebuildResult:
    counted: int
    brands: int
    # first recounted bucket by bucket width in minutes; empty when every bucket was recounted
    starts: dict[int, datetime]


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors())


def _first_invalid(exc: ValidationError) -> InvalidField:
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else "input"
    return InvalidField(field, error["msg"])


def create_key(
    settings: Settings,
    name: str,
    scopes: list[str],
    *,
    brand_ids: list[int] | None = None,
    expires_at: datetime | None = None,
) -> CreatedKey:
    """Create a key with the API's rules: known scopes, existing brands, an expiry in the future."""
    try:
        body = ApiKeyIn.model_validate(
            {"name": name, "scopes": scopes, "brand_ids": brand_ids, "expires_at": expires_at}
        )
    except ValidationError as exc:
        raise _first_invalid(exc) from None
    now = datetime.now(UTC)
    if body.expires_at is not None and body.expires_at <= now:
        raise InvalidField("expires_at", f"{body.expires_at.isoformat()} is not in the future")
    factory = make_session_factory(make_engine(settings.database_url))
    with transaction(factory) as session:
        missing = unknown_brands(session, body.brand_ids or [])
        if missing:
            raise InvalidField("brand_ids", f"no brand with id {', '.join(map(str, missing))}")
        key, secret = create_api_key(
            session, body.name, list(body.scopes), now, brand_ids=body.brand_ids, expires_at=body.expires_at
        )
        return CreatedKey(key.id, secret, list(key.scopes), key.brand_ids, key.expires_at)


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


def oldest_mention_at(settings: Settings) -> datetime | None:
    """When the oldest stored mention was posted (None: no mentions)."""
    factory = make_session_factory(make_engine(settings.database_url))
    with factory() as session:
        return session.scalar(select(func.min(Mention.posted_at)))


def rebuild(settings: Settings, brand_ids: list[int] | None, since: datetime | None) -> RebuildResult:
    """Recount buckets from stored mentions (all of them, or those starting at or after `since`)."""
    factory = make_session_factory(make_engine(settings.database_url))
    with transaction(factory) as session:
        if brand_ids:
            missing = unknown_brands(session, brand_ids)
            if missing:
                raise InvalidField("brand_ids", f"no brand with id {', '.join(map(str, missing))}")
        query = select(Brand.id, Brand.bucket_minutes)
        if brand_ids:
            query = query.where(Brand.id.in_(brand_ids))
        widths = {brand_id: minutes for brand_id, minutes in session.execute(query)}
        counted = rebuild_buckets(session, brand_ids or None, since)
    starts = {m: first_rebuilt_bucket(since, m) for m in set(widths.values())} if since else {}
    return RebuildResult(counted=counted, brands=len(widths), starts=starts)
