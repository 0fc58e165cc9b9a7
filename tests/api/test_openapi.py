"""The OpenAPI document is complete enough to integrate from alone: every /api/v1 operation has a summary,
a description, a tag, a 2xx schema with an example that validates against it, its problem responses
and the bearer security scheme; every request/response model carries a valid example; the docs pages
are served without any CDN."""

from __future__ import annotations

import inspect
import re
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api import alerting_schemas, schemas
from api.app import create_app
from api.context import ApiContext
from api.openapi_docs import OPERATIONS, TAGS
from api.problems import PROBLEM_JSON, Problem

V1 = "/api/v1/"


@pytest.fixture(scope="module")
def app_client():  # type: ignore[no-untyped-def]
    # The document and the docs pages need no database.
    with TestClient(create_app(ApiContext(factory=None, ingestor=None))) as client:  # type: ignore[arg-type]
        yield client


@pytest.fixture(scope="module")
def spec(app_client: TestClient) -> dict[str, Any]:
    response = app_client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = [
        (method.upper(), path, operation)
        for path, ops in spec["paths"].items()
        if path.startswith(V1)
        for method, operation in ops.items()
    ]
    assert len(found) >= 35, "the /api/v1 surface shrank unexpectedly"
    return found


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """A validator for `schema` whose #/components/… references resolve inside the document."""
    return jsonschema_rs.validator_for({**schema, "components": spec["components"]})


def test_every_operation_has_a_summary_description_and_known_tag(spec: dict[str, Any]) -> None:
    tag_names = {t["name"] for t in TAGS}
    assert [t["name"] for t in spec["tags"]] == [t["name"] for t in TAGS]
    for method, path, op in operations(spec):
        where = f"{method} {path}"
        assert (method, path) in OPERATIONS, f"{where}: add it to api.openapi_docs.OPERATIONS"
        assert op["summary"] == OPERATIONS[(method, path)].summary
        assert len(op.get("description", "")) >= 15, f"{where}: say what it does in plain words"
        assert op["tags"] and set(op["tags"]) <= tag_names, where


def test_every_success_response_has_a_schema_and_a_valid_example(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        where = f"{method} {path}"
        successes = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        assert successes, f"{where}: no 2xx response"
        for status, response in successes.items():
            if status == "204":
                assert "content" not in response, f"{where}: 204 has no body"
                continue
            media = response["content"]["application/json"]
            assert media.get("schema"), f"{where}: {status} has no schema"
            assert "example" in media, f"{where}: {status} has no example"
            errors = [e.message for e in validator(spec, media["schema"]).iter_errors(media["example"])]
            assert not errors, f"{where}: the example does not match the schema: {errors[:3]}"


def test_every_request_body_example_matches_its_schema(spec: dict[str, Any]) -> None:
    checked = 0
    for method, path, op in operations(spec):
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None:
            continue
        schema = body["schema"]
        # An optional body is anyOf [model, null]: the model carries the examples.
        ref = schema.get("$ref") or next(a["$ref"] for a in schema.get("anyOf", []) if "$ref" in a)
        target = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        examples = target.get("examples") or []
        assert examples, f"{method} {path}: the request body has no example"
        for example in examples:
            errors = [e.message for e in validator(spec, schema).iter_errors(example)]
            assert not errors, f"{method} {path}: {errors[:3]}"
            checked += 1
    assert checked >= 12


def test_every_operation_declares_its_problem_responses(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        wanted = {"401", "403", "422"} | ({"404"} if "{" in path else set())
        if any(p["name"] == "cursor" for p in op.get("parameters", [])):
            wanted.add("400")
        for status in wanted:
            response = op["responses"].get(status)
            assert response is not None, f"{method} {path}: {status} not declared"
            content = response["content"]
            assert list(content) == [PROBLEM_JSON], f"{method} {path}: {status} is not problem+json"
            assert content[PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/Problem"}
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "code", "detail"}
    assert validator(spec, {"$ref": "#/components/schemas/Problem"}).is_valid(problem["examples"][0])


def test_the_bearer_scheme_is_declared_and_required(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "nrs_<prefix>_<secret>"}
    for method, path, op in operations(spec):
        assert {"bearerAuth": []} in op["security"], f"{method} {path}"
    metrics = spec["paths"]["/metrics"]["get"]
    assert {} in metrics["security"], "a loopback Prometheus needs no key; the document must say so"


def test_the_overview_explains_how_to_use_the_api(spec: dict[str, Any]) -> None:
    text = spec["info"]["description"]
    for needle in (
        "Authorization: Bearer nrs_",
        "`read`",
        "`admin`",
        "next_cursor",
        "application/problem+json",
        "If-None-Match",
        "Idempotency-Key",
        "UTC",
        "brand_forbidden",
    ):
        assert needle in text, needle


def _models() -> list[type[BaseModel]]:
    found = []
    for module in (schemas, alerting_schemas):
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseModel) and obj.__module__ == module.__name__ and obj is not schemas.Page:
                found.append(obj)
    return found


@pytest.mark.parametrize("model", [*_models(), Problem], ids=lambda m: m.__name__)
def test_every_model_has_examples_its_own_validation_accepts(model: type[BaseModel]) -> None:
    examples = model.model_json_schema().get("examples")
    assert examples, f"{model.__name__} has no example"
    for example in examples:
        model.model_validate(example)  # raises if the example is not a valid instance


def test_page_examples_are_built_from_the_item_example() -> None:
    example = schemas.Page[schemas.IncidentOut].model_json_schema()["examples"][0]
    assert example["items"] == [schemas.INCIDENT_EXAMPLE]
    assert example["next_cursor"]


def test_docs_are_served_without_a_cdn(app_client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        response = app_client.get(page)
        assert response.status_code == 200
        assert "text/html" in response.headers["content-type"]
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", response.text)
        assert urls, page
        for url in urls:
            assert url.startswith("/"), f"{page} loads {url} from outside this server"
            asset = app_client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 1000, url
        assert "fonts.googleapis" not in response.text


@pytest.mark.parametrize("model", ["BrandIn", "BrandPatch"])
def test_a_brands_sensitivity_is_explained_level_by_level(spec: dict[str, Any], model: str) -> None:
    # An integrator choosing a sensitivity must learn from the document alone what each level does.
    field = spec["components"]["schemas"][model]["properties"]["sensitivity"]
    text = field.get("description", "")
    assert all(f"'{level}'" in text for level in ("low", "normal", "high")), text
    assert "false alarms" in text and "once in" in text, text
