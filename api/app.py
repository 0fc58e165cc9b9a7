"""The FastAPI application factory: routers, error format, health endpoints."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import select, text

from api import slack
from api.context import ApiContext, get_context
from api.etag import install_etag
from api.metrics_export import install_metrics
from api.openapi_docs import DESCRIPTION, TAGS, document_api
from api.pages import router as pages_router
from api.problems import install_problem_handlers
from api.routers import (
    api_keys,
    brands,
    incident_actions,
    incident_details,
    incidents,
    mentions,
    metrics,
    muting,
    routes,
    runbooks,
    sources,
    webhooks,
)
from collectors.sources.base import AUTH_ERROR_PREFIX
from storage.leases import live_workers
from storage.migrations import is_at_head
from storage.sources import Source
from storage.telemetry import Telemetry

WORKER_HEARTBEAT_WINDOW = timedelta(minutes=1)  # a worker beats every 15 s (its source sync)


def create_app(
    context: ApiContext, telemetry: Telemetry | None = None, metrics_token: str | None = None
) -> FastAPI:
    """`telemetry`: the process's counters for GET /metrics; `metrics_token`: NOROSHI_METRICS_TOKEN."""
    app = FastAPI(
        title="Noroshi",
        version="0.1.0",
        description=DESCRIPTION,  # the overview integrators read: auth, scopes, errors, paging…
        openapi_tags=TAGS,
        docs_url=None,  # served offline by document_api
        redoc_url=None,
    )
    app.state.context = context
    install_problem_handlers(app)
    install_etag(app)
    alerting_routers = (incident_actions, incident_details, muting, routes, webhooks, runbooks)
    for module in (api_keys, brands, metrics, sources, mentions, incidents, *alerting_routers):
        app.include_router(module.router)
    app.include_router(pages_router)
    app.include_router(slack.router)
    install_metrics(app, context, telemetry or Telemetry(), metrics_token)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz(ctx: ApiContext = Depends(get_context)) -> JSONResponse:
        """Readiness: database reachable, migrations at head, scheduler alive. Also reported, not gating:
        sources whose credentials failed, and the workers alive (heartbeat within a minute)."""
        checks: dict[str, str] = {}
        try:
            with ctx.factory() as session:
                session.execute(text("SELECT 1"))
                checks["database"] = "ok"
                checks["migrations"] = "ok" if is_at_head(session.get_bind().engine) else "behind head"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        checks["scheduler"] = "ok" if ctx.scheduler_alive() else "not running"
        ready = all(v == "ok" for v in checks.values())
        # Reported, not gating: the API serves fine while one collector's credentials are wrong.
        checks["sources"] = _source_auth_check(ctx) if checks.get("database") == "ok" else "unknown"
        checks["workers"] = _workers_check(ctx) if checks.get("database") == "ok" else "unknown"
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    document_api(app)
    return app


def _workers_check(ctx: ApiContext) -> str:
    """How many workers have a heartbeat in the last minute: with none, nothing collects or detects
    (an API-only `noroshi serve` is ready to answer, but its operators need to know)."""
    with ctx.factory() as session:
        alive = live_workers(session, ctx.clock(), WORKER_HEARTBEAT_WINDOW)
    if not alive:
        return "none alive: nothing collects or detects"
    return f"{len(alive)} alive"


def _source_auth_check(ctx: ApiContext) -> str:
    """Returns "ok" or the enabled sources whose last collect failed on credentials (401/403, no key)."""
    with ctx.factory() as session:
        failing = session.execute(
            select(Source.id, Source.name)
            .where(
                Source.enabled.is_(True),
                Source.consecutive_failures > 0,
                Source.last_error.startswith(AUTH_ERROR_PREFIX, autoescape=True),
            )
            .order_by(Source.id)
        ).all()
    if not failing:
        return "ok"
    return "auth failed: " + ", ".join(f"{name} (id {sid})" for sid, name in failing)
