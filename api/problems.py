"""Errors as application/problem+json with a stable `code`, for every route."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
OUT_OF_RANGE = "a value in the request is out of range (ids and numbers must fit in a signed 64-bit integer)"
UNSTORABLE = "a value in the request cannot be stored: numbers must fit in 64 bits, text must not contain NUL"
# FastAPI's own 400 when a JSON body cannot even be decoded (e.g. bytes that are not UTF-8).
FASTAPI_BODY_ERROR = "There was an error parsing the body"
UNREADABLE_BODY = "the body is not JSON: send UTF-8 encoded JSON with Content-Type: application/json"


class ProblemFieldError(BaseModel):
    field: str = Field(examples=["keywords"])
    message: str = Field("", examples=["keywords must not be empty"])


class Problem(BaseModel):
    """RFC 9457 problem details. `code` is stable (switch on it); `detail` is for people and may change."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank#validation_error",
                    "title": "validation error",
                    "status": 422,
                    "code": "validation_error",
                    "detail": "keywords: Value error, keywords must not be empty",
                    "errors": [{"field": "keywords", "message": "Value error, keywords must not be empty"}],
                }
            ]
        },
    )
    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[ProblemFieldError] | None = None


# Why a status is declared on an operation; the `code`s each one carries.
PROBLEM_STATUSES: dict[int, str] = {
    400: "Bad request: `invalid_cursor` (not a cursor this API returned), `invalid_idempotency_key`",
    401: "No API key, or it is unknown, revoked or expired: `unauthorized`",
    403: "The key lacks the scope (`forbidden`) or the brand (`brand_forbidden`)",
    404: "Nothing with that id: `not_found` (or `unknown_source`)",
    409: "Conflicts with what is stored: e.g. `brand_exists`, `source_exists`, `invalid_transition`, "
    "`confirmation_required` (a brand delete without `confirm=true`), `idempotency_key_in_progress`",
    422: "The request is invalid; `errors` names each field (`validation_error`, `idempotency_key_reused`)",
    503: "Not available in this process: `actions_unavailable`",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for problem+json answers (schema: components.schemas.Problem)."""
    return {
        status: {
            "description": PROBLEM_STATUSES[status],
            "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
        }
        for status in statuses
    }


class ApiProblem(Exception):
    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra


def problem_response(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"about:blank#{code}",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _field_error(error: dict[str, Any]) -> dict[str, str]:
    # A JSON syntax error's loc is ("body", <character offset>): the field is the body, not "1".
    loc = ("body",) if error.get("type") == "json_invalid" else tuple(error.get("loc", ()))
    return {"field": _field_path(loc), "message": error.get("msg", "")}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _api_problem(_: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_field_error(e) for e in exc.errors()]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(422, "validation_error", summary or "invalid request", errors=errors)

    @app.exception_handler(OverflowError)
    async def _out_of_range(_: Request, exc: OverflowError) -> JSONResponse:
        # SQLite cannot bind an int beyond 64 bits: the request is at fault (no id that large exists).
        return problem_response(422, "value_out_of_range", OUT_OF_RANGE)

    @app.exception_handler(DataError)
    async def _unstorable(_: Request, exc: DataError) -> JSONResponse:
        # PostgreSQL refused a value of the request (a number out of range, a NUL character in text):
        # nothing was stored, and sending it again will not help, so it is a 422, not a server error.
        return problem_response(422, "invalid_value", UNSTORABLE)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == FASTAPI_BODY_ERROR:
            # The same answer as a JSON syntax error (422 validation_error), which every operation with
            # a body declares; FastAPI's bare 400 was declared nowhere.
            errors = [{"field": "body", "message": UNREADABLE_BODY}]
            return problem_response(422, "validation_error", f"body: {UNREADABLE_BODY}", errors=errors)
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return problem_response(
            exc.status_code,
            code,
            str(exc.detail),
        )


def ensure_aware(**times: datetime | None) -> None:
    """A 422 naming the first time query parameter given without a timezone (its meaning would be a guess)."""
    for name, value in times.items():
        if value is not None and value.tzinfo is None:
            raise ApiProblem(422, "validation_error", f"{name}: give a timezone (e.g. 2026-11-21T05:00:00Z)")
