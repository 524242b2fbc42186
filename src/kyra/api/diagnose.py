"""`POST /api/v1/diagnose`: Kyra's diagnosis for platforms that are not Python.

The contract is `kyra diagnose`'s, over HTTP: the body is one error object (the fields
of a `kyra diagnose` line: provider, step_action, status_code, headers, error_type,
error_message, body) and the answer is its diagnosis object; or the body is a JSON array
of such objects (at most `MAX_BATCH`) and the answer is an array in the same order, a
malformed item answering `{"error": why}` in its place, as a malformed line does. A
single malformed object is a 422; an oversized batch a 413. An n8n Error Trigger
workflow can post its failed node's error here and branch on `safety`.

No LLM is consulted (rules and the local model only, so a diagnosis here costs nothing)
and nothing is stored: it is a pure function of the request.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Query, Request

from kyra.api.auth import Auth, kyra_of
from kyra.api.errors import ApiError
from kyra.healing.diagnosis.batch import diagnose_object
from kyra.healing.diagnosis.engine import default_diagnoser
from kyra.i18n import Lang
from kyra.store.tenants import get_tenant_by_id

router = APIRouter(prefix="/api/v1", tags=["diagnose"])

MAX_BATCH = 100
"""Errors in one request; a longer batch is a 413 (split it, or use `kyra diagnose`)."""

ERROR_EXAMPLE = {
    "provider": "stripe",
    "status_code": 429,
    "headers": {"Retry-After": "30"},
    "error_message": "Too many requests",
}


@router.post(
    "/diagnose",
    response_model=dict[str, Any] | list[dict[str, Any]],
    responses={
        413: {"description": f"more than {MAX_BATCH} errors in one batch"},
        422: {"description": "the error object is malformed"},
    },
)
def diagnose(
    request: Request,
    who: Auth,
    payload: dict[str, Any] | list[Any] = Body(  # noqa: B008 - FastAPI's way to declare a body
        ..., examples=[ERROR_EXAMPLE, [ERROR_EXAMPLE]]
    ),
    lang: Literal["en", "es"] | None = Query(
        None, description="Language of the explanations (default: your tenant's)."
    ),
) -> dict[str, Any] | list[dict[str, Any]]:
    """Diagnose one error (an object) or a batch (an array): class, safety, fix steps."""
    language: Lang = lang or get_tenant_by_id(kyra_of(request).store, who.tenant_id).lang_code
    diagnoser = default_diagnoser()
    if isinstance(payload, dict):
        output, result = diagnose_object(payload, diagnoser, lang=language)
        if result is None:
            raise ApiError(422, "validation_error", str(output["error"]))
        return output
    if len(payload) > MAX_BATCH:
        raise ApiError(
            413,
            "too_large",
            f"a batch holds at most {MAX_BATCH} errors (got {len(payload)}); split it",
        )
    return [diagnose_object(item, diagnoser, lang=language)[0] for item in payload]
