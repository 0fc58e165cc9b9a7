"""API keys: `nrs_<prefix>_<secret>`; stored as prefix + SHA-256, compared in constant time.

Brand-limited keys: `Principal.brand_ids` is None (every brand) or the brands the key may see. Rows that
belong to no single brand (a silence, route or webhook for *all* brands) count as every brand's, so only
an unrestricted key may see or change them. `ensure_brand_access` and `limit_to_brands` are the only
places the rule lives; every router calls them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Select, false, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.context import ApiContext, get_context
from api.problems import ApiProblem
from storage.api_keys import ApiKey

SCOPES = ("read", "write", "ingest", "admin")
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost", "testclient"})
# last_used_at is bookkeeping, not an audit log: one write a minute per key instead of one per request.
LAST_USED_RESOLUTION = timedelta(seconds=60)
Row = TypeVar("Row", bound=tuple[Any, ...])


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    scopes: frozenset[str]
    # None = every brand; otherwise the only brands this key may read or write.
    brand_ids: frozenset[int] | None = None
    key_id: int | None = None

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes

    def can_see(self, brand_id: int | None) -> bool:
        """`brand_id` None means a row for every brand: visible to unrestricted keys only."""
        if self.brand_ids is None:
            return True
        return brand_id is not None and brand_id in self.brand_ids

    @property
    def brand_scope(self) -> str:
        """A stable label of what this key can see (part of the ETag, so keys never share one wrongly)."""
        return "*" if self.brand_ids is None else ",".join(str(b) for b in sorted(self.brand_ids))


def ensure_brand_access(principal: Principal, brand_id: int | None) -> None:
    """The one brand check every router uses: 403 `brand_forbidden` for a brand outside the key's set.

    Callers check existence first (404 when the object does not exist), so a 403 honestly means
    "it exists, but not for this key".
    """
    if not principal.can_see(brand_id):
        target = f"brand {brand_id}" if brand_id is not None else "data for every brand"
        raise ApiProblem(403, "brand_forbidden", f"this API key is limited to some brands; not {target}")


def limit_to_brands(
    query: Select[Row], principal: Principal, column: InstrumentedAttribute[Any]
) -> Select[Row]:
    """Filter a list query to the rows of the key's brands (no-op for an unrestricted key)."""
    if principal.brand_ids is None:
        return query
    if not principal.brand_ids:
        return query.where(false())
    return query.where(column.in_(sorted(principal.brand_ids)))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = list(scopes)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(
            f"scopes must be a non-empty subset of {', '.join(SCOPES)}; got {', '.join(unknown)}"
        )
    return sorted(set(scopes))


def create_api_key(
    session: Session,
    name: str,
    scopes: list[str],
    now: datetime,
    *,
    brand_ids: list[int] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; the full key is returned once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=hash_secret(secret),
        scopes=validate_scopes(scopes),
        brand_ids=sorted(set(brand_ids)) if brand_ids is not None else None,
        expires_at=expires_at,
        created_at=now,
    )
    session.add(key)
    session.flush()
    return key, f"nrs_{prefix}_{secret}"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def _usable(key: ApiKey | None, secret: str, now: datetime) -> bool:
    if key is None or key.revoked_at is not None:
        return False
    if key.expires_at is not None and key.expires_at <= now:
        return False
    return hmac.compare_digest(key.key_hash, hash_secret(secret))


def _touch(session: Session, key: ApiKey, now: datetime) -> None:
    """Record use at most once per LAST_USED_RESOLUTION; a conditional UPDATE, so concurrent requests
    of the same key do not both write."""
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key.id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USED_RESOLUTION),
        )
        .values(last_used_at=now)
    )
    session.commit()


def authenticate(session: Session, presented: str, now: datetime) -> Principal | None:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != "nrs":
        return None
    key = session.scalars(select(ApiKey).where(ApiKey.prefix == parts[1])).first()
    if key is None or not _usable(key, parts[2], now):
        return None
    _touch(session, key, now)
    brands = frozenset(key.brand_ids) if key.brand_ids is not None else None
    return Principal(name=key.name, scopes=frozenset(key.scopes), brand_ids=brands, key_id=key.id)


def require(scope: str) -> Callable[..., Principal]:
    """Dependency: the caller must present a key with `scope` (or be local, in demo mode)."""

    def dependency(request: Request, context: ApiContext = Depends(get_context)) -> Principal:
        presented = _bearer(request)
        if presented is None:
            host = request.client.host if request.client else ""
            if context.allow_local_writes and host in LOCAL_HOSTS:
                principal = Principal(name=f"local:{host}", scopes=frozenset(SCOPES))
                request.state.principal = principal
                return principal
            raise ApiProblem(
                401, "unauthorized", "an API key is required: send 'Authorization: Bearer <key>'"
            )
        with context.factory() as session:
            principal = authenticate(session, presented, context.clock())
        if principal is None:
            raise ApiProblem(401, "unauthorized", "the API key is unknown, expired or revoked")
        if not principal.allows(scope):
            raise ApiProblem(403, "forbidden", f"this API key lacks the '{scope}' scope")
        # Read by the ETag middleware (the representation depends on the key's brand scope).
        request.state.principal = principal
        return principal

    return dependency
