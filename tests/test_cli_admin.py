"""`noroshi keys create` (brands, expiry), `noroshi brands add` (sensitivity) and `noroshi buckets rebuild`
(since the retention cutoff)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import get_args, get_type_hints

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.auth import authenticate
from api.brand_schemas import Sensitivity
from collectors.buckets import first_rebuilt_bucket
from collectors.ingest import MentionIngestor
from detectors.calibration import PRESETS
from noroshi.cli import app, brands_add
from storage.api_keys import ApiKey
from storage.brands import Brand
from storage.mentions import Bucket, Mention
from tests.helpers import add_brand, add_source, post

runner = CliRunner()


def _flat(output: str) -> str:
    """The output without rich's error box and line wrapping, so a message can be matched whole."""
    return " ".join(output.replace("│", " ").split())


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NOROSHI_DATABASE_URL", db_url)
    monkeypatch.setenv("NOROSHI_RETENTION_DAYS", "30")
    return db_url


def _brands(factory: sessionmaker[Session], now: datetime) -> tuple[int, int]:
    with factory() as session, session.begin():
        return add_brand(session, "acme", ["acme"], now).id, add_brand(session, "beta", ["beta"], now).id


def _keys(factory: sessionmaker[Session]) -> list[ApiKey]:
    with factory() as session:
        return list(session.scalars(select(ApiKey)))


def test_keys_create_limits_brands_and_sets_an_expiry(cli_db, factory) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    acme, beta = _brands(factory, now)
    result = runner.invoke(
        app,
        ["keys", "create", "--name", "pr", "--scope", "read", "--brand", str(beta), "--brand", str(acme),
         "--brand", str(beta), "--expires-in-days", "7"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("nrs_") and "\n" not in secret  # stdout is the key alone, for scripts
    assert f"brands {acme}, {beta}" in result.stderr and "not shown again" in result.stderr
    (key,) = _keys(factory)
    assert key.brand_ids == [acme, beta]
    assert key.expires_at is not None
    assert timedelta(days=7) - timedelta(minutes=1) < key.expires_at - now < timedelta(days=7, minutes=1)
    with factory() as session:
        assert authenticate(session, secret, now) is not None
        assert authenticate(session, secret, now + timedelta(days=8)) is None  # expired

    at = runner.invoke(
        app,
        ["keys", "create", "--name", "ci", "--scope", "ingest", "--expires-at", "2099-04-01T09:00:00+09:00"],
    )
    assert at.exit_code == 0, at.output
    ci = next(k for k in _keys(factory) if k.name == "ci")
    assert ci.expires_at == datetime(2099, 4, 1, 0, 0, tzinfo=UTC) and ci.brand_ids is None
    listed = runner.invoke(app, ["keys", "list"]).stdout.splitlines()
    assert listed[0].split("\t")[6] == "expires_at"
    assert listed[2].split("\t")[6] == "2099-04-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("args", "option", "message"),
    [
        (["--brand", "999"], "--brand", "no brand with id 999"),
        (["--brand", "0"], "--brand", "greater than or equal to 1"),
        (["--expires-at", "2030-01-01T09:00"], "--expires-at", "has no timezone"),
        (["--expires-at", "next week"], "--expires-at", "'next week' is not an ISO 8601 date-time"),
        (["--expires-at", "2020-01-01T00:00:00Z"], "--expires-at", "is not in the future"),
        (["--expires-in-days", "0"], "--expires-in-days", "greater than or equal to 1"),
        (["--expires-in-days", "3", "--expires-at", "2099-01-01T00:00Z"], "--expires-in-days", "not both"),
        (["--scope", "root"], "--scope", "'read', 'write', 'ingest' or 'admin'"),
    ],
)
def test_keys_create_rejects_bad_values_naming_the_option(cli_db, factory, args, option, message) -> None:  # type: ignore[no-untyped-def]
    _brands(factory, datetime.now(UTC))
    result = runner.invoke(app, ["keys", "create", "--name", "x", "--scope", "read", *args])
    assert result.exit_code == 2, result.output
    text = _flat(result.output)
    assert f"Invalid value for '{option}'" in text and message in text, text
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    assert _keys(factory) == []


def _mentions(factory: sessionmaker[Session], scorer, now: datetime) -> int:  # type: ignore[no-untyped-def]
    """Posts 40 days back to today; returns the brand id."""
    with factory() as session, session.begin():
        brand = add_brand(session, "acme", ["acme"], now).id
        source = add_source(session, "push", now).id
    ages = [timedelta(days=d) for d in (40, 36, 31, 12, 2)] + [timedelta(hours=3)]
    posts = [post(str(i), now - age, "acme is down again", author=f"u{i}") for i, age in enumerate(ages)]
    with factory() as session, session.begin():
        MentionIngestor(scorer).ingest(session, source, posts, now)
    return brand


def _totals(factory: sessionmaker[Session]) -> dict[datetime, int]:
    with factory() as session:
        return {s: t for s, t in session.execute(select(Bucket.start, Bucket.total).order_by(Bucket.start))}


def test_buckets_rebuild_defaults_to_the_retention_cutoff(cli_db, factory, scorer) -> None:  # type: ignore[no-untyped-def]
    before = datetime.now(UTC)
    _mentions(factory, scorer, before)
    pruned = runner.invoke(app, ["prune"])
    assert pruned.exit_code == 0 and "deleted 3 mentions" in pruned.output, pruned.output
    with factory() as session, session.begin():
        session.execute(update(Bucket).values(total=Bucket.total + 5))  # drift everywhere
    result = runner.invoke(app, ["buckets", "rebuild"])
    after = datetime.now(UTC)
    assert result.exit_code == 0, result.output
    # The oldest mention left (12 days old) is after the retention cutoff (30 days): the rebuild starts at
    # the bucket after it (its own bucket may have lost earlier mentions to a prune, so it is kept).
    assert "from 2 brand mentions" in result.output and "the oldest stored mention" in result.output
    first = datetime.fromisoformat(re.search(r"at or after (\S+) \(5-minute", result.output).group(1))  # type: ignore[union-attr]
    assert first_rebuilt_bucket(before - timedelta(days=12), 5) <= first
    assert first <= first_rebuilt_bucket(after - timedelta(days=12), 5)
    totals = _totals(factory)
    assert [t for s, t in totals.items() if s < first] == [6, 6, 6, 6]  # pruned days keep their counts
    assert [t for s, t in totals.items() if s >= first] == [1, 1]  # recounted from the mentions

    since = before - timedelta(days=3, seconds=30)
    override = runner.invoke(app, ["buckets", "rebuild", "--since", since.isoformat()])
    assert override.exit_code == 0, override.output
    assert f"at or after {first_rebuilt_bucket(since, 5).isoformat()} (5-minute buckets) recounted;" in (
        override.output
    )
    assert "warning" not in override.output and "retention cutoff" not in override.output

    everything = runner.invoke(app, ["buckets", "rebuild", "--all"])
    assert everything.exit_code == 0 and "every bucket recounted" in everything.stdout
    assert "warning: recounting before the retention cutoff" in _flat(everything.stderr)
    assert sorted(_totals(factory).values()) == [1, 1, 1]  # what --all costs after a prune
    with factory() as session:
        assert session.scalar(select(func.count(Mention.id))) == 3


def test_a_rebuild_after_a_deeper_manual_prune_keeps_the_emptied_days(cli_db, factory, scorer) -> None:  # type: ignore[no-untyped-def]
    """Retention is 30 days, but a manual prune went to 5: the buckets of days 5–30 have no mentions left
    to be recounted from, so the default rebuild must not zero them."""
    before = datetime.now(UTC)
    _mentions(factory, scorer, before)
    deep = runner.invoke(app, ["prune", "--older-than-days", "5"])
    assert deep.exit_code == 0 and "deleted 4 mentions" in deep.output, deep.output
    result = runner.invoke(app, ["buckets", "rebuild"])
    assert result.exit_code == 0 and "the oldest stored mention" in result.output, result.output
    assert sorted(_totals(factory).values()) == [1] * 6  # every bucket keeps its count, none zeroed
    cutoff = runner.invoke(app, ["buckets", "rebuild", "--all"])
    assert cutoff.exit_code == 0 and sorted(_totals(factory).values()) == [1, 1]  # what the guard prevents


def test_a_rebuild_without_mentions_recounts_nothing(cli_db, factory) -> None:  # type: ignore[no-untyped-def]
    _brands(factory, datetime.now(UTC))
    result = runner.invoke(app, ["buckets", "rebuild"])
    assert result.exit_code == 0 and "no stored mentions" in result.output, result.output


@pytest.mark.parametrize(
    ("args", "option", "message"),
    [
        (["--since", "2026-11-01"], "--since", "has no timezone: add one, e.g. 2026-11-01T00:00+09:00"),
        (["--since", "2999-01-01T00:00Z"], "--since", "is in the future"),
        (["--since", "2026-11-01T00:00Z", "--all"], "--all", "not both"),
        (["--brand", "42"], "--brand", "no brand with id 42"),
    ],
)
def test_buckets_rebuild_rejects_bad_values(cli_db, args, option, message) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["buckets", "rebuild", *args])
    assert result.exit_code == 2, result.output
    text = _flat(result.output)
    assert f"Invalid value for '{option}'" in text and message in text, text


def test_brands_add_sets_the_sensitivity_and_defaults_to_normal(cli_db, factory) -> None:  # type: ignore[no-untyped-def]
    add = ["brands", "add", "--keyword"]
    high = runner.invoke(app, [*add, "acme", "--name", "acme", "--sensitivity", "high"])
    plain = runner.invoke(app, [*add, "beta", "--name", "beta"])
    assert high.exit_code == 0 and plain.exit_code == 0, high.output + plain.output
    with factory() as session:
        stored = {name: level for name, level in session.execute(select(Brand.name, Brand.sensitivity))}
    assert stored == {"acme": "high", "beta": "normal"}


def test_brands_add_rejects_an_unknown_sensitivity_naming_the_option(cli_db, factory) -> None:  # type: ignore[no-untyped-def]
    args = ["brands", "add", "--name", "acme", "--keyword", "acme", "--sensitivity", "paranoid"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    text = _flat(result.output)
    assert "Invalid value for '--sensitivity'" in text and "'low', 'normal', 'high'" in text, text
    with factory() as session:
        assert session.scalars(select(Brand)).all() == []


def test_the_cli_and_the_api_offer_exactly_the_detectors_sensitivities() -> None:
    option = get_type_hints(brands_add, include_extras=True)["sensitivity"]
    cli_levels = get_args(get_args(option)[0])
    assert sorted(cli_levels) == sorted(get_args(Sensitivity)) == sorted(PRESETS)
