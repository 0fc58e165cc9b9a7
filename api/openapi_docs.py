"""The OpenAPI document an integrator works from: overview, tags, per-operation summaries, the bearer
security scheme, problem+json responses, response examples — and the docs pages served offline.

Summaries and tags are kept in one table here (OPERATIONS) rather than spread over the routers, so the
whole API reads as one list; an operation's description is the table's sentence (if any) followed by the
route's docstring. tests/api/test_openapi.py fails when a /api/v1 operation is missing from it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.problems import PROBLEM_JSON, Problem, problem_responses

ASSETS_URL = "/docs-assets"  # Swagger UI 5 and ReDoc 2 from the fastapi-offline wheel: no CDN needed
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
BEARER = "bearerAuth"

DESCRIPTION = """Noroshi (狼煙) watches what people post about your brands and opens an incident when a
flame-up (炎上) starts. Everything it knows is here, under `/api/v1`.

**Authentication.** Send an API key on every request: `Authorization: Bearer nrs_…` (`X-API-Key: nrs_…`
works too). Create the first key with `noroshi keys create --name me --scope admin`, then more with
`POST /api/v1/api-keys`. The key is shown once, stored hashed, and can be revoked at any time.

**Scopes.** `read` — GETs (listing webhooks and API keys needs `admin`); `write` — brands, incident
actions, silences, campaign windows, runbooks; `ingest` — `POST /api/v1/mentions`; `admin` — everything,
including sources, notification routes, webhooks and API keys. A key may also be limited to some brands:
lists are filtered to them, one object of another brand is 403 `brand_forbidden` (it exists), 404
`not_found` only when it does not exist; rows for every brand (`brand_id` null) belong to unrestricted
keys, and brand-limited keys cannot push mentions (a post is matched against every brand's keywords).

**Errors** are `application/problem+json` (RFC 9457) with a stable `code` to switch on and a `detail`
for people; invalid input is 422 with `errors: [{field, message}]` naming each field. 401 = no or bad
key, 403 = the key may not do this, 404 = no such object.

**Pagination.** Lists are newest first with a stable order. `limit` ≤ 100; when `next_cursor` is not
null, pass it back as `cursor` for the next page. Cursors are opaque.

**Caching.** Every GET under /api/v1 carries a strong `ETag`; send it back as `If-None-Match` and an
unchanged answer is 304 with no body. Responses are `Cache-Control: private, no-cache`.

**Retries.** POSTs that create accept an `Idempotency-Key` header: a retry with the same key and body
within 24 h replays the first response (header `Idempotent-Replayed: true`); the same key with another
body is 422 `idempotency_key_reused`. Pushing a mention twice is idempotent by its `id` anyway.

**Times** are ISO 8601 in UTC (`2026-11-21T05:05:00Z`); inputs must carry a timezone. JSON is snake_case.

**Operations.** `GET /healthz` (liveness) and `GET /readyz` (database, migrations, scheduler) need no
key. `GET /metrics` (Prometheus) needs none from the same host while `NOROSHI_METRICS_TOKEN` is unset;
otherwise that token or a `read` key. This reference is also at `/docs` (Swagger UI) and `/redoc`,
served from this server without any CDN."""

TAGS: list[dict[str, str]] = [
    {"name": "Brands", "description": "Who is watched: keywords, timezone, sensitivity, holidays."},
    {"name": "Sources", "description": "Where posts come from (RSS, X, Bluesky, …), with their health."},
    {"name": "Mentions", "description": "Push posts in; search the stored, scored posts."},
    {"name": "Metrics", "description": "Counts per bucket with the detector's expected value and band."},
    {"name": "Incidents", "description": "What the detectors opened, with evidence; acknowledge, resolve…"},
    {"name": "Muting", "description": "Silences and campaign windows: recorded, but nobody is paged."},
    {"name": "Notifications", "description": "Who is told about which incidents, and when (escalation)."},
    {"name": "Webhooks", "description": "Signed HTTP callbacks for incident events (Standard Webhooks)."},
    {"name": "Runbooks", "description": "What to do, per kind × severity × locale; per-brand overrides."},
    {"name": "API keys", "description": "Keys with scopes, optionally limited to brands (admin only)."},
    {"name": "Operations", "description": "Liveness, readiness and Prometheus metrics."},
    {"name": "Slack", "description": "The endpoint Slack calls when someone presses a card's button."},
]


class Doc(NamedTuple):
    tag: str
    summary: str
    description: str = ""  # put before the route's docstring (which may be absent or terse)
    problems: tuple[int, ...] = ()  # beyond those STATUS_RULES add


V1 = "/api/v1"
OPERATIONS: dict[tuple[str, str], Doc] = {
    ("POST", f"{V1}/api-keys"): Doc("API keys", "Create an API key"),
    ("GET", f"{V1}/api-keys"): Doc(
        "API keys", "List API keys", "Every key with its scopes, brands, last use, expiry and revocation."
    ),
    ("GET", f"{V1}/api-keys/{{key_id}}"): Doc(
        "API keys",
        "Get one API key",
        "One key's scopes, brands, last use, expiry and revocation; never the key.",
    ),
    ("DELETE", f"{V1}/api-keys/{{key_id}}"): Doc("API keys", "Revoke an API key"),
    ("GET", f"{V1}/brands"): Doc(
        "Brands",
        "List brands",
        "The brands this key may see, a page at a time, with their keywords and detector settings.",
    ),
    ("POST", f"{V1}/brands"): Doc("Brands", "Create a brand"),
    ("GET", f"{V1}/brands/{{brand_id}}"): Doc(
        "Brands", "Get one brand", "One brand: keywords, exclusions, timezone, sensitivity, holidays."
    ),
    ("PATCH", f"{V1}/brands/{{brand_id}}"): Doc("Brands", "Update a brand", problems=(409,)),
    ("DELETE", f"{V1}/brands/{{brand_id}}"): Doc("Brands", "Delete a brand", problems=(409,)),
    ("GET", f"{V1}/incidents/{{incident_id}}/details"): Doc(
        "Incidents", "One incident with its headline, drivers, top posts and timeline"
    ),
    ("GET", f"{V1}/brands/{{brand_id}}/buckets"): Doc(
        "Metrics",
        "Raw buckets of a brand",
        "The stored buckets (posts, negative posts, reach, unique authors) between `since` and `until`, "
        "oldest first; buckets nobody posted in are absent. For charts use the metrics endpoint.",
    ),
    ("GET", f"{V1}/brands/{{brand_id}}/metrics"): Doc("Metrics", "Metric series of a brand"),
    ("GET", f"{V1}/sources"): Doc(
        "Sources",
        "List sources",
        "The sources, a page at a time, with their health: last run, success, error.",
    ),
    ("POST", f"{V1}/sources"): Doc(
        "Sources", "Create a source", "Add a source; its settings are checked for its kind (422 otherwise)."
    ),
    ("GET", f"{V1}/sources/{{source_id}}"): Doc(
        "Sources", "Get one source", "One source with its settings and health (last success, last error)."
    ),
    ("PATCH", f"{V1}/sources/{{source_id}}"): Doc("Sources", "Update a source", problems=(409,)),
    ("DELETE", f"{V1}/sources/{{source_id}}"): Doc("Sources", "Delete a source"),
    ("POST", f"{V1}/mentions"): Doc("Mentions", "Push mentions", problems=(404,)),
    ("GET", f"{V1}/mentions"): Doc("Mentions", "Search mentions"),
    ("GET", f"{V1}/incidents"): Doc(
        "Incidents", "List incidents", "Incidents matching the filters, each with its evidence and page link."
    ),
    ("GET", f"{V1}/incidents/{{incident_id}}"): Doc(
        "Incidents",
        "Get one incident",
        "One incident with its evidence (observed vs expected and band, score, negative share vs usual) "
        "and a link to its page.",
    ),
    ("POST", f"{V1}/incidents/{{incident_id}}/acknowledge"): Doc(
        "Incidents", "Acknowledge an incident", problems=(503,)
    ),
    ("POST", f"{V1}/incidents/{{incident_id}}/resolve"): Doc(
        "Incidents",
        "Resolve an incident",
        "It is over: escalation and reminders stop; a new event opens a new incident.",
        problems=(503,),
    ),
    ("POST", f"{V1}/incidents/{{incident_id}}/snooze"): Doc(
        "Incidents", "Snooze an incident", problems=(503,)
    ),
    ("POST", f"{V1}/incidents/{{incident_id}}/comment"): Doc(
        "Incidents", "Comment on an incident", problems=(503,)
    ),
    ("GET", f"{V1}/incidents/{{incident_id}}/timeline"): Doc(
        "Incidents",
        "An incident's timeline",
        "What happened to it: opened, escalated, acknowledged, comments…",
    ),
    ("GET", f"{V1}/silences"): Doc(
        "Muting",
        "List silences",
        "Silences: which brand, kind and severities, from when to when, who and why.",
    ),
    ("POST", f"{V1}/silences"): Doc(
        "Muting",
        "Create a silence",
        "Record but do not page matching incidents from `starts_at` (default now) until `ends_at`; "
        "a null brand, kind or severity matches every one.",
    ),
    ("DELETE", f"{V1}/silences/{{silence_id}}"): Doc(
        "Muting",
        "End a silence",
        "One that has started ends now (the record stays); a future one is removed.",
    ),
    ("GET", f"{V1}/campaign-windows"): Doc(
        "Muting",
        "List campaign windows",
        "Expected spikes (launches, campaigns): incidents inside are not paged.",
    ),
    ("POST", f"{V1}/campaign-windows"): Doc("Muting", "Create a campaign window"),
    ("DELETE", f"{V1}/campaign-windows/{{window_id}}"): Doc(
        "Muting",
        "End a campaign window",
        "One that has started ends now (the record stays); a future one is removed.",
    ),
    ("GET", f"{V1}/notification-routes"): Doc("Notifications", "List notification routes"),
    ("POST", f"{V1}/notification-routes"): Doc("Notifications", "Add a notification route"),
    ("DELETE", f"{V1}/notification-routes/{{route_id}}"): Doc(
        "Notifications", "Remove a notification route", "The step no longer applies to incidents from now on."
    ),
    ("GET", f"{V1}/webhooks"): Doc(
        "Webhooks",
        "List webhook subscriptions",
        "Each subscription's URL, brand, events and secret rotation.",
    ),
    ("POST", f"{V1}/webhooks"): Doc("Webhooks", "Subscribe a webhook"),
    ("POST", f"{V1}/webhooks/{{webhook_id}}/rotate-secret"): Doc("Webhooks", "Rotate a webhook's secret"),
    ("DELETE", f"{V1}/webhooks/{{webhook_id}}"): Doc(
        "Webhooks", "Delete a webhook subscription", "Unsubscribe: nothing more is sent to its URL."
    ),
    ("GET", f"{V1}/brands/{{brand_id}}/runbooks"): Doc("Runbooks", "A brand's runbooks"),
    ("PUT", f"{V1}/brands/{{brand_id}}/runbooks/{{kind}}"): Doc("Runbooks", "Override a runbook"),
    ("DELETE", f"{V1}/brands/{{brand_id}}/runbooks/{{kind}}"): Doc("Runbooks", "Remove a runbook override"),
    ("GET", "/healthz"): Doc("Operations", "Liveness"),
    ("GET", "/readyz"): Doc("Operations", "Readiness"),
    ("GET", "/metrics"): Doc("Operations", "Prometheus metrics", problems=(401, 403)),
    ("POST", "/slack/interactions"): Doc("Slack", "Slack button presses"),
}

Operation = tuple[str, str, dict[str, Any]]  # method, path, the OpenAPI operation object

# (does the rule apply to this operation? → problem statuses it declares) — every match adds its statuses.
STATUS_RULES: tuple[tuple[Callable[[Operation], bool], tuple[int, ...]], ...] = (
    (lambda o: o[1].startswith(f"{V1}/"), (401, 403, 422)),
    (lambda o: o[1].startswith(f"{V1}/") and "{" in o[1], (404,)),
    (lambda o: any(p.get("name") == "cursor" for p in o[2].get("parameters", [])), (400,)),
    (lambda o: o[1].startswith(f"{V1}/") and o[0] == "POST", (400, 409)),  # 400: a bad Idempotency-Key
)


def _document_operation(method: str, path: str, operation: dict[str, Any]) -> None:
    """Tag, summary, fallback description and problem responses of one operation."""
    doc = OPERATIONS.get((method, path))
    if doc is not None:
        operation["tags"] = [doc.tag]
        operation["summary"] = doc.summary
        # The table's sentence first, then the route's docstring (which often adds order or caveats).
        operation["description"] = " ".join(t for t in (doc.description, operation.get("description")) if t)
    extra = doc.problems if doc is not None else ()
    statuses = {s for rule, declared in STATUS_RULES if rule((method, path, operation)) for s in declared}
    responses = operation.setdefault("responses", {})
    for status, response in problem_responses(*sorted(statuses | set(extra))).items():
        existing = responses.get(str(status), {})
        # The route's own description (which codes it gives) wins; the problem+json content is added.
        responses[str(status)] = {**response, **existing, "content": response["content"]}


def _nullable(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(a.get("type") == "null" for a in schema.get("anyOf", []))


def _restore_nulls(value: Any, schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Put back the `null`s FastAPI drops from examples (it encodes the document with exclude_none), so a
    required nullable field such as `resolved_at` is present in the example as the model has it."""
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _restore_nulls(item, schema["items"], schemas)
    if not isinstance(value, dict):
        return
    for alternative in schema.get("anyOf", []):
        if "$ref" in alternative:
            _restore_nulls(value, alternative, schemas)
    for name, prop in schema.get("properties", {}).items():
        if name in value:
            _restore_nulls(value[name], prop, schemas)
        elif name in schema.get("required", []) and _nullable(prop):
            value[name] = None


def _example_of(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """The first example of a (possibly referenced, possibly array) schema, or None."""
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        item = _example_of(schema["items"], components)
        return None if item is None else [item]
    return None


def _finish_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """Security scheme, the Problem schema, and an example on every JSON success response."""
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for component in schemas.values():
        for example in component.get("examples", []):
            _restore_nulls(example, component, schemas)
    components["securitySchemes"] = {
        BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "nrs_<prefix>_<secret>"},
        "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            _document_operation(method.upper(), path, operation)
            if path.startswith(f"{V1}/"):
                operation["security"] = [{BEARER: []}, {"apiKeyHeader": []}]
            elif path == "/metrics":
                operation["security"] = [{}, {BEARER: []}]  # anonymous from loopback; see its description
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json")
                if status.startswith("2") and media and "example" not in media:
                    example = _example_of(media.get("schema", {}), schemas)
                    if example is not None:
                        media["example"] = example
    return spec


def _serve_docs(app: FastAPI) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="Noroshi API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="Noroshi API",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )


def document_api(app: FastAPI) -> None:
    """Finish the app's OpenAPI document (OPERATIONS, STATUS_RULES, security, examples) and serve /docs and
    /redoc offline. Call once, after every route is added (the app is created with docs_url=None)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if not getattr(app.state, "openapi_finished", False):
            _finish_schema(generate())  # generate() caches the dict; finishing it once is enough
            app.state.openapi_finished = True
        return generate()

    app.openapi = openapi  # type: ignore[method-assign]
    _serve_docs(app)


__all__ = ["DESCRIPTION", "PROBLEM_JSON", "TAGS", "document_api"]
