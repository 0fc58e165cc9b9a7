"""The `noroshi` command: run the service, migrate, score, detect, manage keys and brands."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from noroshi.settings import Settings

if TYPE_CHECKING:
    from noroshi.admin import InvalidField, RebuildResult

app = typer.Typer(help="Noroshi (狼煙): flame-up early warning.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
buckets_app = typer.Typer(help="Time buckets.", no_args_is_help=True)
brands_app = typer.Typer(help="Brands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(buckets_app, name="buckets")
app.add_typer(brands_app, name="brands")


MAX_ID = 2**31 - 1  # ids are 32-bit integers in PostgreSQL
# Spelled out rather than api.brand_schemas.Sensitivity: importing the API's models costs every command
# ~1.3 s at start-up (tests/test_cli_admin.py holds both to the detector's presets).
SensitivityLevel = Literal["low", "normal", "high"]


def _settings() -> Settings:
    return Settings()


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs every job run at INFO; our own jobs log what matters.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


@db_app.command("upgrade")
def db_upgrade(revision: str = "heads") -> None:
    """Apply migrations (SQLite or PostgreSQL, from NOROSHI_DATABASE_URL)."""
    from storage.migrations import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision."""
    from storage.engine import make_engine
    from storage.migrations import current_revisions

    typer.echo(", ".join(sorted(current_revisions(make_engine(_settings().database_url)))) or "(empty)")


@app.command()
def run(
    demo: Annotated[bool | None, typer.Option("--demo/--no-demo", help="seed the demo")] = None,
    host: str | None = None,
    port: int | None = None,
) -> None:
    """API + scheduler in one process (the embedded default)."""
    from noroshi.runtime import run_service

    settings = _settings()
    _configure_logging(settings.log_level)
    run_service(settings, demo=settings.demo if demo is None else demo, host=host, port=port, scheduler=True)


@app.command()
def serve(host: str | None = None, port: int | None = None) -> None:
    """API only (production: any number of these, plus `noroshi worker`)."""
    from noroshi.runtime import run_service

    settings = _settings()
    _configure_logging(settings.log_level)
    run_service(settings, demo=False, host=host, port=port, scheduler=False)


@app.command()
def worker() -> None:
    """Scheduler only: collect, detect, deliver (run several against PostgreSQL to scale out)."""
    from noroshi.runtime import run_worker

    settings = _settings()
    _configure_logging(settings.log_level)
    run_worker(settings)


@app.command()
def workers() -> None:
    """Workers seen in the last minute, and the source leases they hold."""
    from noroshi.runtime import describe_workers

    typer.echo(describe_workers(_settings()))


@app.command()
def negativity(path: Annotated[Path, typer.Argument(help="TSV with a header and a 'text' column")]) -> None:
    """Score posts: one JSON object per row, in order."""
    from collectors.negativity.tsv import score_tsv

    if not path.is_file():
        raise _fail(f"{path}: no such file")
    try:
        for row in score_tsv(path):
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(f"{path}: {exc}") from None


@app.command()
def detect(
    path: Annotated[Path, typer.Argument(help="CSV: timestamp, value|count[, negative]")],
    sensitivity: Annotated[
        SensitivityLevel, typer.Option(help="the brand sensitivity to replay (see `brands add`)")
    ] = "normal",
    timezone: Annotated[
        str, typer.Option(help="the brand's IANA timezone, for its daily and weekly pattern")
    ] = "UTC",
    holidays: Annotated[
        str | None,
        typer.Option(help="holiday calendar, a country code (JP, US …): its holidays count as off days"),
    ] = None,
    bucket_minutes: Annotated[
        int | None,
        typer.Option(help="minutes per row (default: the most common gap between rows)"),
    ] = None,
    evidence: Annotated[
        bool,
        typer.Option(
            "--evidence",
            help="add why each alert fired (test, observed, expected, upper band) and its later escalations",
        ),
    ] = False,
) -> None:
    """Run the production detector over a series bucket by bucket, exactly as live; print the alerts."""
    from detectors import ConfigError, DetectorConfig, replay
    from detectors.csvio import CadenceError, alerts_json, read_series_csv

    try:
        config = DetectorConfig(
            bucket_minutes=5 if bucket_minutes is None else bucket_minutes,
            timezone=timezone,
            sensitivity=sensitivity,
            holidays=holidays,
        )
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint=f"'--{exc.field.replace('_', '-')}'") from None
    if not path.exists():
        raise _fail(f"{path}: no such file")
    if not path.is_file():
        raise _fail(f"{path}: not a file")
    try:
        points, minutes = read_series_csv(path, bucket_minutes)
        signals = replay(points, replace(config, bucket_minutes=minutes))
    except CadenceError as exc:
        hint = "" if bucket_minutes else " (--bucket-minutes sets the cadence when most buckets are left out)"
        raise _fail(f"{path}: {exc}{hint}") from None
    except ValueError as exc:
        raise _fail(f"{path}: {exc}") from None
    shares = any(point.negative for point in points)
    typer.echo(json.dumps(alerts_json(signals, evidence=evidence, shares=shares), ensure_ascii=False))


def _aware_datetime(value: str) -> datetime:
    """Parse an ISO 8601 date-time that names its timezone (a naive time would be silently ambiguous)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 date-time (e.g. 2026-11-21T09:00:00+09:00)"
        ) from None
    if parsed.tzinfo is None:
        example = value if "T" in value or " " in value else f"{value}T00:00"
        raise typer.BadParameter(f"{value!r} has no timezone: add one, e.g. {example}+09:00 or {example}Z")
    return parsed.astimezone(UTC)


# The option each field of noroshi.admin's validation is given through.
_OPTIONS = {
    "name": "'--name'",
    "scopes": "'--scope'",
    "brand_ids": "'--brand'",
    "expires_at": "'--expires-at'",
}


def _bad(exc: InvalidField) -> typer.BadParameter:
    return typer.BadParameter(str(exc), param_hint=_OPTIONS.get(exc.field, exc.field))


def _rebuild_since(
    settings: Settings, since: datetime | None, everything: bool, now: datetime
) -> tuple[datetime | None, str]:
    """Where a rebuild starts, and why: `--since`; else the later of the retention cutoff and the oldest
    stored mention (a manual prune may have gone further than the setting: buckets before the oldest
    mention have nothing left to be recounted from); `--all`: every bucket."""
    if everything:
        if since is not None:
            raise typer.BadParameter("give --since or --all, not both", param_hint="'--all'")
        return None, ""
    if since is not None:
        if since > now:
            raise typer.BadParameter(
                f"{since.isoformat()} is in the future: nothing to rebuild", param_hint="'--since'"
            )
        return since, ""
    from noroshi.admin import oldest_mention_at

    oldest = oldest_mention_at(settings)
    if oldest is None:
        return now, " (no stored mentions: nothing to recount from)"
    if settings.retention_days:
        cutoff = now - timedelta(days=settings.retention_days)
        if cutoff >= oldest:
            return cutoff, " (the retention cutoff, now − NOROSHI_RETENTION_DAYS)"
    return oldest, " (the oldest stored mention)"


def _warn_before_cutoff(settings: Settings, since: datetime | None, now: datetime) -> None:
    if not settings.retention_days:
        return
    cutoff = now - timedelta(days=settings.retention_days)
    if since is None or since < cutoff:
        typer.secho(
            f"warning: recounting before the retention cutoff {cutoff.isoformat()} "
            f"(NOROSHI_RETENTION_DAYS={settings.retention_days}): buckets whose mentions were pruned "
            "lose their counts",
            fg=typer.colors.YELLOW,
            err=True,
        )


@buckets_app.command("rebuild")
def buckets_rebuild(
    brand: Annotated[
        list[int] | None,
        typer.Option(min=1, max=MAX_ID, metavar="ID", help="brand id (repeatable; default: every brand)"),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            parser=_aware_datetime,
            metavar="ISO8601",
            help="recount buckets from this time on (with a timezone); "
            "default: the later of the retention cutoff (now − NOROSHI_RETENTION_DAYS) and the oldest "
            "stored mention",
        ),
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="recount every bucket (only safe if no mentions were pruned)")
    ] = False,
) -> None:
    """Recompute buckets from stored mentions; buckets before the cutoff are kept as they are."""
    from noroshi.admin import InvalidField, rebuild

    settings = _settings()
    now = datetime.now(UTC)
    start, origin = _rebuild_since(settings, since, everything, now)
    if since is not None or everything:
        _warn_before_cutoff(settings, start, now)
    try:
        result = rebuild(settings, brand, start)
    except InvalidField as exc:
        raise _bad(exc) from None
    typer.echo(
        f"rebuilt {result.brands} brand(s) from {result.counted} brand mentions: {_span(result, origin)}"
    )


def _span(result: RebuildResult, origin: str) -> str:
    if not result.starts:
        return "every bucket recounted"
    firsts = ", ".join(f"{t.isoformat()} ({m}-minute buckets)" for m, t in sorted(result.starts.items()))
    return f"buckets starting at or after {firsts} recounted{origin}; older buckets kept"


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="who the key is for")],
    scope: Annotated[list[str], typer.Option(help="read, write, ingest, admin (repeatable)")],
    brand: Annotated[
        list[int] | None,
        typer.Option(
            min=1,
            max=MAX_ID,
            metavar="ID",
            help="limit the key to this brand id (repeatable; default: every brand)",
        ),
    ] = None,
    expires_at: Annotated[
        datetime | None,
        typer.Option(
            parser=_aware_datetime, metavar="ISO8601", help="expiry, with a timezone (default: never)"
        ),
    ] = None,
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, max=36_500, metavar="N", help="expiry in N days from now")
    ] = None,
) -> None:
    """Create an API key; it is printed once (alone on stdout) and only its hash is stored."""
    from noroshi.admin import InvalidField, create_key

    if expires_at is not None and expires_in_days is not None:
        raise typer.BadParameter(
            "give --expires-at or --expires-in-days, not both", param_hint="'--expires-in-days'"
        )
    if expires_in_days is not None:
        expires_at = datetime.now(UTC) + timedelta(days=expires_in_days)
    try:
        key = create_key(_settings(), name, scope, brand_ids=brand, expires_at=expires_at)
    except InvalidField as exc:
        raise _bad(exc) from None
    brands = ", ".join(map(str, key.brand_ids)) if key.brand_ids is not None else "all"
    expiry = key.expires_at.isoformat() if key.expires_at else "never"
    typer.echo(
        f"key {key.id}: scopes {', '.join(key.scopes)}; brands {brands}; expires {expiry}. "
        "Store it now: it is not shown again.",
        err=True,
    )
    typer.echo(key.secret)


@keys_app.command("list")
def keys_list(
    include_revoked: Annotated[bool, typer.Option("--all", help="include revoked keys")] = False,
) -> None:
    """List keys (never the secret): id, name, prefix, scopes, brands, created, expiry, last use, revoked."""
    from storage.api_keys import list_api_keys
    from storage.engine import make_engine, make_session_factory

    factory = make_session_factory(make_engine(_settings().database_url))
    with factory() as session:
        keys = list_api_keys(session, include_revoked=include_revoked)
    typer.echo("id\tname\tprefix\tscopes\tbrands\tcreated_at\texpires_at\tlast_used_at\trevoked_at")
    for k in keys:
        brands = ",".join(map(str, k.brand_ids)) if k.brand_ids is not None else "*"
        times = [
            t.isoformat() if t else "-" for t in (k.created_at, k.expires_at, k.last_used_at, k.revoked_at)
        ]
        typer.echo("\t".join([str(k.id), k.name, k.prefix, ",".join(k.scopes), brands, *times]))


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="the key id (see `noroshi keys list`)")]) -> None:
    """Revoke a key at once: requests with it get 401 from now on."""
    from storage.api_keys import revoke_api_key
    from storage.engine import make_engine, make_session_factory, transaction

    factory = make_session_factory(make_engine(_settings().database_url))
    with transaction(factory) as session:
        key = revoke_api_key(session, key_id, datetime.now(UTC))
        if key is None:
            raise _fail(f"no API key with id {key_id}")
        revoked_at = key.revoked_at
    typer.echo(f"key {key_id} revoked at {revoked_at.isoformat() if revoked_at else '-'}")


@brands_app.command("add")
def brands_add(
    name: Annotated[str, typer.Option()],
    keyword: Annotated[list[str], typer.Option(help="keyword or phrase (repeatable)")],
    exclude: Annotated[list[str] | None, typer.Option()] = None,
    timezone: str = "Asia/Tokyo",
    bucket_minutes: int = 5,
    holidays: Annotated[
        str, typer.Option(help="holiday calendar: 'auto' (the timezone's country), a code (JP …) or 'none'")
    ] = "auto",
    sensitivity: Annotated[
        SensitivityLevel,
        typer.Option(
            help="how readily the brand pages: low = only unmistakable surges, fewest alerts; "
            "high = earliest warning, more false alarms"
        ),
    ] = "normal",
) -> None:
    """Register a brand to watch."""
    from noroshi.admin import add_brand

    try:
        brand_id = add_brand(
            _settings(),
            name=name,
            keywords=keyword,
            exclude=exclude or [],
            timezone=timezone,
            bucket_minutes=bucket_minutes,
            holidays=holidays,
            sensitivity=sensitivity,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"brand {brand_id} created")


@app.command()
def prune(
    older_than_days: Annotated[
        int | None, typer.Option(help="age in days (default NOROSHI_RETENTION_DAYS; 0 keeps everything)")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count what would be deleted")] = False,
) -> None:
    """Delete mentions older than the retention period (buckets and incidents are kept)."""
    from storage.engine import make_engine, make_session_factory
    from storage.retention import prune_mentions

    settings = _settings()
    days = settings.retention_days if older_than_days is None else older_than_days
    if days < 0:
        raise _fail(f"--older-than-days must be 0 or more, not {days}")
    if days == 0:
        typer.echo("retention is 0 days (keep forever): nothing pruned")
        return
    factory = make_session_factory(make_engine(settings.database_url))
    report = prune_mentions(
        factory, datetime.now(UTC), timedelta(days=days), settings.retention_batch, dry_run=dry_run
    )
    typer.echo(report.summary())


if __name__ == "__main__":
    app()
