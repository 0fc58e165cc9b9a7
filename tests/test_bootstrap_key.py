"""NOROSHI_ADMIN_KEY: the service stores it at start-up (hashed) and it then works as an admin key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from api.auth import authenticate
from noroshi.bootstrap_key import ensure_bootstrap_key
from noroshi.runtime import prepare
from noroshi.settings import Settings
from storage.api_keys import ApiKey

KEY = "nrs_a1b2c3d4e5f6_" + "s3cr3t-" * 6


def _settings(**fields: object) -> Settings:
    return Settings(_env_file=None, **fields)  # type: ignore[call-arg]


@pytest.mark.parametrize("bad", ["letmein", "nrs_ab_" + "x" * 40, "nrs_a1b2c3d4e5f6_short"])
def test_a_malformed_key_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _settings(admin_key=bad)
    message = str(caught.value)
    assert "nrs_<prefix>_<secret>" in message
    assert bad not in message


def test_the_service_stores_the_key_once_and_it_authenticates_as_admin(db_url) -> None:
    settings = _settings(database_url=db_url, admin_key=KEY)
    for _ in range(2):  # a restart finds it stored and adds nothing
        services = prepare(settings, demo=False)
        services.engine.dispose()
    services = prepare(settings, demo=False)
    with services.factory() as session:
        rows = session.scalars(select(ApiKey)).all()
        assert len(rows) == 1 and KEY.split("_", 2)[2] not in rows[0].key_hash
        principal = authenticate(session, KEY, datetime.now(UTC))
        assert principal is not None and principal.allows("admin") and principal.brand_ids is None
        assert authenticate(session, KEY[:-1] + "X", datetime.now(UTC)) is None
    services.engine.dispose()


def test_a_revoked_bootstrap_key_stays_revoked(factory) -> None:
    now = datetime.now(UTC)
    with factory() as session, session.begin():
        assert ensure_bootstrap_key(session, KEY, now) == "created"
        key = session.scalars(select(ApiKey)).one()
        key.revoked_at = now
    with factory() as session, session.begin():
        assert ensure_bootstrap_key(session, KEY, now) == "conflict"
        assert authenticate(session, KEY, now) is None
        assert session.scalars(select(ApiKey)).one().revoked_at is not None
