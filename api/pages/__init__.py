"""Server-rendered pages: `router` (dashboard, brand, incident summary/report/runbook, access) is included
by the app factory."""

from fastapi import APIRouter

from api.pages import access, brand_routes, dashboard_routes, digest_routes, incident_routes

router = APIRouter(include_in_schema=False)
for _module in (dashboard_routes, brand_routes, incident_routes, digest_routes, access):
    router.include_router(_module.router)

__all__ = ["router"]
