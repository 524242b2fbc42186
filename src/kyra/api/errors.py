"""One error shape for every failure: RFC 9457 problem details (`application/problem+json`)
with a stable `code` for programs:

    {"type": "urn:kyra:problem:not_found", "title": "Not Found", "status": 404,
     "detail": "no workflow named 'x'", "code": "not_found", "details": null}

`detail` is for people and may change wording; `code` (and `type`, which carries it) is
the contract. `details` holds structured extras (the problems of an invalid workflow,
the fields of a validation error).

Kyra's own errors map to 4xx by who must act (`NotFoundError` → 404, `ConflictError` →
409, `WorkflowDefinitionError` → 422 with its problems); anything unexpected becomes a
logged 500 with no internals in the body. Bad input must never reach that last branch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kyra.errors import (
    ConflictError,
    IllegalTransitionError,
    InputError,
    KyraError,
    NotFoundError,
    SecretError,
    StoreError,
    TemplateError,
    ValueRequired,
    WorkflowDefinitionError,
    WorkflowExistsError,
)

log = logging.getLogger("kyra.api")

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "urn:kyra:problem:"
_STATUSES = {s.value for s in HTTPStatus}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "busy",
    503: "unavailable",
}


class ApiError(Exception):
    """An error the API answers on purpose, with its status and stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def problem(status: int, code: str, detail: str, details: Any = None) -> dict[str, Any]:
    """An RFC 9457 problem body."""
    return {
        "type": PROBLEM_TYPE + code,
        "title": HTTPStatus(status).phrase if status in _STATUSES else "Error",
        "status": status,
        "detail": detail,
        "code": code,
        "details": details,
    }


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        problem(status, code, message, details),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


API_EXISTS = "a workflow named {name!r} already exists; send replace=true to update it"
"""The API's words for a name clash (the store's mention the CLI's `--replace`)."""


def _kyra_error(exc: KyraError) -> tuple[int, str, Any]:
    if isinstance(exc, WorkflowDefinitionError):
        return 422, "invalid_workflow", {"source": exc.source, "problems": exc.problems}
    if isinstance(exc, WorkflowExistsError):
        return 409, "workflow_exists", {"name": exc.name}
    if isinstance(exc, NotFoundError):
        return 404, "not_found", None
    if isinstance(exc, ConflictError):
        return 409, "conflict", None
    if isinstance(exc, IllegalTransitionError):
        return 409, "illegal_transition", {"current": exc.current, "target": exc.target}
    if isinstance(exc, SecretError | TemplateError):
        return 422, "invalid_input", None
    if isinstance(exc, ValueRequired):
        return 422, "value_required", {"fix_id": exc.fix_id, "field": exc.field}
    if isinstance(exc, InputError):
        return 400, "bad_request", None
    if isinstance(exc, StoreError):
        return 503, "store_unavailable", None
    return 400, "kyra_error", None


def _plain(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation errors without their `input`/`ctx` (which may hold anything, including
    values that are not JSON)."""
    return [
        {
            "loc": [str(part) for part in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(KyraError)
    async def _kyra(_: Request, exc: KyraError) -> JSONResponse:
        status, code, details = _kyra_error(exc)
        if status >= 500:
            log.warning("store error: %s", exc)
        if isinstance(exc, WorkflowExistsError):
            message = API_EXISTS.format(name=exc.name)
        else:
            message = str(exc)
        return error_response(status, code, message, details)

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "validation_error", "invalid request", _plain(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _model(_: Request, exc: ValidationError) -> JSONResponse:
        return error_response(422, "validation_error", "invalid value", _plain(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, code, str(exc.detail), None, headers)


class CatchAll:
    """Pure ASGI middleware: an unexpected exception becomes a logged JSON 500 (unlike
    Starlette's handler it does not re-raise, and it never wraps streaming responses)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await send_problem(send, 500, "internal_error", "internal error")


async def send_problem(
    send: Send, status: int, code: str, detail: str, *, close: bool = False
) -> None:
    """Answer with a problem body straight from ASGI middleware (no route ran)."""
    body = json.dumps(problem(status, code, detail)).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:  # the rest of the request body is never read: end the connection
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
