"""API keys: `nrs_<prefix>_<secret>`; stored as prefix + SHA-256, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.context import ApiContext, get_context
from api.problems import ApiProblem
from storage.api_keys import ApiKey

SCOPES = ("read", "write", "ingest", "admin")
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost", "testclient"})


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, name: str, scopes: list[str], now: datetime) -> tuple[ApiKey, str]:
    """Create a key; the full key is returned once and never stored."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(
            f"scopes must be a non-empty subset of {', '.join(SCOPES)}; got {', '.join(unknown)}"
        )
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        name=name, prefix=prefix, key_hash=hash_secret(secret), scopes=sorted(set(scopes)), created_at=now
    )
    session.add(key)
    session.flush()
    return key, f"nrs_{prefix}_{secret}"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def authenticate(session: Session, presented: str, now: datetime) -> Principal | None:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != "nrs":
        return None
    key = session.scalars(select(ApiKey).where(ApiKey.prefix == parts[1])).first()
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.key_hash, hash_secret(parts[2])):
        return None
    key.last_used_at = now
    session.commit()
    return Principal(name=key.name, scopes=frozenset(key.scopes))


def require(scope: str) -> Callable[..., Principal]:
    """Dependency: the caller must present a key with `scope` (or be local, in demo mode)."""

    def dependency(request: Request, context: ApiContext = Depends(get_context)) -> Principal:
        presented = _bearer(request)
        if presented is None:
            host = request.client.host if request.client else ""
            if context.allow_local_writes and host in LOCAL_HOSTS:
                return Principal(name=f"local:{host}", scopes=frozenset(SCOPES))
            raise ApiProblem(
                401, "unauthorized", "an API key is required: send 'Authorization: Bearer <key>'"
            )
        with context.factory() as session:
            principal = authenticate(session, presented, context.clock())
        if principal is None:
            raise ApiProblem(401, "unauthorized", "the API key is unknown or revoked")
        if not principal.allows(scope):
            raise ApiProblem(403, "forbidden", f"this API key lacks the '{scope}' scope")
        return principal

    return dependency
