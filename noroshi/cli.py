"""The `noroshi` command: run the service, migrate, score, detect, manage keys and brands."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from noroshi.settings import Settings

app = typer.Typer(help="Noroshi (狼煙): flame-up early warning.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
buckets_app = typer.Typer(help="Time buckets.", no_args_is_help=True)
brands_app = typer.Typer(help="Brands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(buckets_app, name="buckets")
app.add_typer(brands_app, name="brands")


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
    """Scheduler only: collect, detect (production; single worker until scale-out lands)."""
    from noroshi.runtime import run_worker

    settings = _settings()
    _configure_logging(settings.log_level)
    run_worker(settings)


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
    sensitivity: str = "normal",
    timezone: str = "UTC",
) -> None:
    """Run the production detector over a series bucket by bucket, exactly as live; print the alerts."""
    from detectors import DetectorConfig, replay
    from detectors.csvio import alerts_json, read_series_csv

    if not path.is_file():
        raise _fail(f"{path}: no such file")
    try:
        points, minutes = read_series_csv(path)
        config = DetectorConfig(bucket_minutes=minutes, timezone=timezone, sensitivity=sensitivity)
        signals = replay(points, config)
    except ValueError as exc:
        raise _fail(f"{path}: {exc}") from None
    typer.echo(json.dumps(alerts_json(signals), ensure_ascii=False))


@buckets_app.command("rebuild")
def buckets_rebuild(
    brand: Annotated[list[int] | None, typer.Option(help="brand id (repeatable)")] = None,
) -> None:
    """Recompute buckets from stored mentions."""
    from collectors.buckets import rebuild_buckets
    from storage.engine import make_engine, make_session_factory, transaction

    factory = make_session_factory(make_engine(_settings().database_url))
    with transaction(factory) as session:
        counted = rebuild_buckets(session, brand or None)
    typer.echo(f"rebuilt buckets from {counted} brand mentions")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="who the key is for")],
    scope: Annotated[list[str], typer.Option(help="read, write, ingest, admin (repeatable)")],
) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    from noroshi.admin import create_key

    try:
        secret = create_key(_settings(), name, scope)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(secret)


@brands_app.command("add")
def brands_add(
    name: Annotated[str, typer.Option()],
    keyword: Annotated[list[str], typer.Option(help="keyword or phrase (repeatable)")],
    exclude: Annotated[list[str] | None, typer.Option()] = None,
    timezone: str = "Asia/Tokyo",
    bucket_minutes: int = 5,
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
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"brand {brand_id} created")


if __name__ == "__main__":
    app()
