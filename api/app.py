"""The FastAPI application factory: routers, error format, health endpoints."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import select, text

from api import slack
from api.context import ApiContext, get_context
from api.pages import router as pages_router
from api.problems import install_problem_handlers
from api.routers import (
    brands,
    incident_actions,
    incidents,
    mentions,
    muting,
    routes,
    runbooks,
    sources,
    webhooks,
)
from collectors.sources.base import AUTH_ERROR_PREFIX
from storage.migrations import is_at_head
from storage.sources import Source

DESCRIPTION = """Noroshi (狼煙) — flame-up early warning.

Authenticate with an API key: `Authorization: Bearer nrs_…` (create the first one with
`noroshi keys create --name me --scope admin`). Times are ISO 8601 in UTC. Errors are
`application/problem+json` with a stable `code`. Lists are newest first with cursor pagination:
pass `next_cursor` back as `cursor`."""


def create_app(context: ApiContext) -> FastAPI:
    app = FastAPI(title="Noroshi", version="0.1.0", description=DESCRIPTION)
    app.state.context = context
    install_problem_handlers(app)
    alerting_routers = (incident_actions, muting, routes, webhooks, runbooks)
    for module in (brands, sources, mentions, incidents, *alerting_routers):
        app.include_router(module.router)
    app.include_router(pages_router)
    app.include_router(slack.router)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz(ctx: ApiContext = Depends(get_context)) -> JSONResponse:
        """Readiness: database reachable, migrations at head, scheduler alive."""
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
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    return app


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
