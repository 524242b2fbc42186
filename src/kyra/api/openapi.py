"""The OpenAPI document, completed where FastAPI's generator stops short:

- readable operationIds (`createWorkflow`, `listExecutions`) from the handlers' names;
- the JSON body of `POST /api/v1/workflows` (a hand-written request body, so FastAPI
  does not add its schema to the components by itself);
- the error responses every route can give, as RFC 9457 `application/problem+json`
  (FastAPI documents only its own 422, in a shape Kyra never sends).

The result validates with openapi-spec-validator (see tests/api/test_openapi.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from kyra.api import schemas as s
from kyra.api.errors import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

ERRORS = {
    400: "Malformed request (bad JSON, not UTF-8, a cursor this API did not hand out)",
    401: "No API key, or an invalid or revoked one",
    404: "No such object in your tenant",
    409: "Conflicts with the current state (the name exists, an illegal transition)",
    413: "The body is too large",
    415: "Unsupported content type",
    422: "Invalid input: the fields at fault are in `details`",
    429: "Too many runs in progress; retry after `Retry-After` seconds",
    503: "The database is unavailable",
}
EVERY_ROUTE = (400, 401, 404, 409, 422, 503)
EXTRA = {
    "createWorkflow": (413, 415),
    "runWorkflow": (429,),
    "approveFix": (429,),
    "triggerHook": (413,),
    "diagnose": (413,),
}
PARAMETERS = {
    "name": "The workflow's name.",
    "execution_id": "An execution id, or a unique prefix of at least 6 characters.",
    "fix_id": "A fix id, or a unique prefix of at least 6 characters.",
    "incident_id": "An incident id, or a unique prefix of at least 6 characters.",
    "prefix": "The API key's prefix (8 hex characters).",
    "hook_id": "The webhook's id (from `POST /api/v1/workflows/{name}/webhook`).",
    "days": "Days of history in the daily series.",
    "x-kyra-token": "The webhook's token.",
    "x-kyra-signature": "`sha256=<hex HMAC-SHA256 of the raw body>` keyed with the signing secret.",
}
"""Descriptions of parameters declared without one, by name (one place for all routes)."""
PUBLIC = {"/healthz", "/readyz"}
"""Routes without a key and without errors of their own."""


def operation_id(route: APIRoute) -> str:
    """`create_workflow` → `createWorkflow`."""
    head, *rest = route.name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _errors(operation: dict[str, Any], codes: tuple[int, ...]) -> None:
    responses = operation.setdefault("responses", {})
    for code in codes:
        responses[str(code)] = {
            "description": ERRORS[code],
            "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
        }


def build(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (s.Problem, s.WorkflowIn):
        components[model.__name__] = model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    for path, item in schema["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                parameter.setdefault("description", PARAMETERS.get(parameter["name"], ""))
        if path in PUBLIC:
            continue
        for operation in item.values():
            codes = EVERY_ROUTE + EXTRA.get(operation.get("operationId", ""), ())
            if path == "/metrics":
                codes = (401, 503)
            _errors(operation, codes)
    return schema


def install(app: FastAPI) -> None:
    """Serve `build(app)` (once, cached) at the app's `openapi_url`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
