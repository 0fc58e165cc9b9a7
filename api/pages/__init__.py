"""Server-rendered pages (dashboard, incident, brand): `router` is included by the app factory."""

from api.pages.routes import router

__all__ = ["router"]
