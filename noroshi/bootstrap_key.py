"""The bootstrap admin key from NOROSHI_ADMIN_KEY: a deployment can hand the service its first key
instead of running `noroshi keys create` against the database."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import SCOPES, hash_secret
from storage.api_keys import ApiKey

log = logging.getLogger(__name__)

# The shape `keys create` prints: nrs_<prefix>_<secret>. The secret must be long enough to be a secret.
KEY_SHAPE = re.compile(r"^nrs_(?P<prefix>[0-9a-z]{6,32})_(?P<secret>[A-Za-z0-9_\-]{32,})$")
BOOTSTRAP_NAME = "bootstrap (NOROSHI_ADMIN_KEY)"


def check_key_shape(presented: str) -> str:
    """The key unchanged, or a ValueError saying what shape it must have (never echoing the key)."""
    if KEY_SHAPE.match(presented) is None:
        raise ValueError(
            "must look like nrs_<prefix>_<secret>: a prefix of 6–32 lowercase letters or digits and a "
            "secret of at least 32 URL-safe characters, "
            "e.g. nrs_$(openssl rand -hex 6)_$(openssl rand -hex 24)"
        )
    return presented


def ensure_bootstrap_key(session: Session, presented: str, now: datetime) -> str:
    """Store the key (hashed, every scope, all brands) unless its prefix is already known.

    Returns what happened: "created", "present" (same key already stored) or "conflict" (the prefix
    belongs to another key, or to this one revoked: a revoked bootstrap key stays revoked).
    """
    match = KEY_SHAPE.match(check_key_shape(presented))
    assert match is not None
    prefix, secret = match["prefix"], match["secret"]
    stored = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if stored is None:
        session.add(
            ApiKey(
                name=BOOTSTRAP_NAME,
                prefix=prefix,
                key_hash=hash_secret(secret),
                scopes=list(SCOPES),
                brand_ids=None,
                expires_at=None,
                created_at=now,
            )
        )
        session.flush()
        return "created"
    if stored.revoked_at is None and stored.key_hash == hash_secret(secret):
        return "present"
    log.warning("NOROSHI_ADMIN_KEY: prefix %s belongs to another or a revoked key; not stored", prefix)
    return "conflict"
