"""Who may see the pages: signed incident links, or an API key with the read scope.

With NOROSHI_SECRET_KEY unset the pages are open (the local demo; say so when deploying). With it set:

| presented                                          | sees                                   |
| -------------------------------------------------- | -------------------------------------- |
| local request while allow_local_writes (the demo)  | everything                             |
| API key with read scope (header or `noroshi_key`)   | everything its brands allow            |
| `?t=` token or the incident's cookie               | that incident's summary/report/runbook |
| nothing valid                                      | a 401 page saying how to get access    |

A valid `?t=` sets an HttpOnly cookie scoped to `/incidents/<id>`, so the pages of that incident keep
working after the first click without the token in every link. POST /access stores an API key in an
HttpOnly cookie (a form on the 401 page), so people with a key can browse the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alerting.page_links import verify
from api.auth import LOCAL_HOSTS, Principal, authenticate
from api.context import ApiContext, get_context
from api.pages.common import page_lang, render

KEY_COOKIE = "noroshi_key"
KEY_COOKIE_SECONDS = 30 * 24 * 3600

router = APIRouter(include_in_schema=False)


def incident_cookie(incident_id: int) -> str:
    return f"noroshi_i{incident_id}"


@dataclass(frozen=True, slots=True)
class Grant:
    """Access was granted; `cookie` is (name, token, max_age, path) to set when a link token was used."""

    cookie: tuple[str, str, int, str] | None = None

    def apply(self, response: Response) -> Response:
        if self.cookie is not None:
            name, value, max_age, path = self.cookie
            response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="lax")
        return response


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key") or request.cookies.get(KEY_COOKIE)


def _key_principal(request: Request, context: ApiContext) -> Principal | None:
    presented = _presented_key(request)
    if not presented:
        return None
    with context.factory() as session:
        principal = authenticate(session, presented, context.clock())
    return principal if principal is not None and principal.allows("read") else None


def _token_grant(request: Request, key: str, incident_id: int, now: datetime) -> Grant | None:
    """A valid token for this incident in the query (then remembered in a cookie) or in its cookie."""
    from_query = request.query_params.get("t")
    for token, remember in ((from_query, True), (request.cookies.get(incident_cookie(incident_id)), False)):
        scope = verify(key, token, now) if token else None
        if scope is not None and scope.incident_id == incident_id:
            if not remember:
                return Grant()
            max_age = max(int(scope.expires_at - now.timestamp()), 1)
            return Grant((incident_cookie(incident_id), token or "", max_age, f"/incidents/{incident_id}"))
    return None


def authorize(
    request: Request, context: ApiContext, *, incident_id: int | None = None, brand_id: int | None = None
) -> Grant | None:
    """Grant access to a page (about `incident_id` / `brand_id` when given), or None: show the 401 page."""
    if context.page_secret is None:
        return Grant()
    host = request.client.host if request.client else ""
    if context.allow_local_writes and host in LOCAL_HOSTS:
        return Grant()
    principal = _key_principal(request, context)
    # A key limited to some brands opens those brands' pages, not the all-brands dashboard.
    if principal is not None and (
        principal.can_see(brand_id) if brand_id is not None else principal.brand_ids is None
    ):
        return Grant()
    if incident_id is not None:
        return _token_grant(request, context.page_secret, incident_id, context.clock())
    return None


def denied(
    request: Request, context: ApiContext, default_lang: str = "ja", rejected: bool = False
) -> HTMLResponse:
    """401: how to get access, in the chosen language; never says whether the incident exists."""
    lang = page_lang(request, request.query_params.get("lang"), default_lang)
    expired = "t" in request.query_params
    return render(
        request,
        "access_denied.html",
        status_code=401,
        now=context.clock(),
        lang=lang,
        expired=expired,
        rejected=rejected,
        next_path=request.url.path,
    )


MAX_FORM_BYTES = 4096


@router.post("/access", name="page_access")
async def sign_in(request: Request, context: ApiContext = Depends(get_context)) -> Response:
    """Keep an API key (read scope) in an HttpOnly cookie, then go back to the page that was refused.

    The form is parsed here (urlencoded, a few fields) rather than adding python-multipart for it."""
    body = await request.body()
    form = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace")) if len(body) <= MAX_FORM_BYTES else {}
    api_key = (form.get("api_key") or [""])[0].strip()
    next_path = (form.get("next_path") or ["/"])[0]
    with context.factory() as session:
        principal = authenticate(session, api_key, context.clock()) if api_key else None
    if principal is None or not principal.allows("read"):
        return denied(request, context, rejected=True)
    target = next_path if next_path.startswith("/") and not next_path.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(
        KEY_COOKIE, api_key, max_age=KEY_COOKIE_SECONDS, httponly=True, samesite="strict", secure=secure
    )
    return response
