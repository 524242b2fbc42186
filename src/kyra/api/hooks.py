"""`POST /hooks/{hook_id}`: a webhook trigger, authenticated without an API key.

The hook id is a random 128-bit value made by `POST /api/v1/workflows/{name}/webhook`;
it names one workflow of one tenant, so the URL reveals neither. Each request must carry
`X-Kyra-Token: <token>` or `X-Kyra-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
An unknown hook and a bad credential get the same 401, so hook ids cannot be probed.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from kyra.api import schemas as s
from kyra.api.auth import digest, kyra_of
from kyra.api.errors import ApiError
from kyra.app import Kyra
from kyra.engine.states import WorkflowState
from kyra.errors import InputError
from kyra.inputs import load_json
from kyra.store import api as api_store
from kyra.store import executions as exec_store
from kyra.store import workflows as wf_store
from kyra.store.api import WebhookInfo
from kyra.workflows.model import TriggerKind

router = APIRouter(tags=["hooks"])
MAX_BODY_BYTES = 256 * 1024

_BODY = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def _denied() -> ApiError:
    return ApiError(401, "unauthorized", "unknown hook or bad token/signature")


def _authentic(
    kyra: Kyra, hook: WebhookInfo, body: bytes, token: str | None, sig: str | None
) -> bool:
    if token:
        return hmac.compare_digest(hook.token_hash, digest(token))
    if sig:
        scheme, _, given = sig.partition("=")
        if scheme.lower() != "sha256" or not given:
            return False
        key = kyra.secrets_of(hook.tenant_id).get(hook.signing_secret)
        if key is None:
            return False
        expected = hmac.new(key.encode("utf-8"), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, given.strip().lower())
    return False


def _inputs(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = load_json(body)
    except InputError as exc:
        raise ApiError(400, "bad_request", f"the body must be a JSON object: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object (it becomes the inputs)")
    return data


@router.post(
    "/hooks/{hook_id}", status_code=202, response_model=s.HookAccepted, openapi_extra=_BODY
)
async def trigger_hook(
    request: Request,
    hook_id: str,
    x_kyra_token: str | None = Header(None),
    x_kyra_signature: str | None = Header(None),
) -> JSONResponse:
    """Queue a run of the hook's workflow with the JSON body as its inputs."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", f"a webhook body is at most {MAX_BODY_BYTES} bytes")
    kyra = kyra_of(request)
    hook = api_store.webhook_by_hook_id(kyra.store, hook_id)
    if hook is None or not _authentic(kyra, hook, body, x_kyra_token, x_kyra_signature):
        raise _denied()
    inputs = _inputs(body)
    record = wf_store.get_workflow_by_id(kyra.store, hook.workflow_id)
    if record.workflow.trigger.kind is not TriggerKind.WEBHOOK:
        raise ApiError(
            409, "not_a_webhook_workflow", f"workflow {record.name!r} has no webhook trigger"
        )
    if record.state == WorkflowState.INACTIVE:
        raise ApiError(409, "workflow_inactive", f"workflow {record.name!r} is inactive")
    execution_id = exec_store.create_execution(
        kyra.store,
        tenant_id=hook.tenant_id,
        workflow_id=record.id,
        inputs=inputs,
        trigger="webhook",
    )
    return JSONResponse({"execution_id": execution_id, "status": "queued"}, status_code=202)
