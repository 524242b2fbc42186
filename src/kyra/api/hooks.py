"""`POST /hooks/{hook_id}`: a webhook trigger, authenticated without an API key.

The hook id is a random 128-bit value made by `POST /api/v1/workflows/{name}/webhook`;
it names one workflow of one tenant, so the URL reveals neither. Each request must carry
either `X-Kyra-Token: <token>` or a Standard Webhooks signature (`webhook-id`,
`webhook-timestamp`, `webhook-signature: v1,<base64>`, see `kyra.signatures`) made with
the tenant secret the hook names. A signed message is accepted once: the timestamp must
be within 5 minutes and its id is kept in the database (shared by every process) past
that window, so a replay is answered with the execution the first delivery started and
starts nothing. The old `X-Kyra-Signature` (a signature of the body alone, replayable) is
refused. An unknown hook and a bad credential get the same 401, so hook ids cannot be
probed.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers

from kyra import signatures
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


OLD_SIGNATURE = (
    "X-Kyra-Signature is no longer accepted (a replayed request passed it); sign with "
    "webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks), see docs/api.md"
)


def _denied() -> ApiError:
    return ApiError(401, "unauthorized", "unknown hook or bad token/signature")


def _authentic(
    kyra: Kyra, hook: WebhookInfo, body: bytes, token: str | None, headers: Headers
) -> str | bool:
    """True for a good token; the message id for a good signature; False otherwise."""
    if token:
        return hmac.compare_digest(hook.token_hash, digest(token))
    if headers.get(signatures.SIGNATURE_HEADER):
        key = kyra.secrets_of(hook.tenant_id).get(hook.signing_secret)
        if key is None:
            return False
        now = kyra.clock.now().timestamp()
        return signatures.verify(key, body, headers, now=now) or False
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
    "/hooks/{hook_id}",
    status_code=202,
    response_model=s.HookAccepted,
    responses={200: {"model": s.HookAccepted, "description": "A signed message already accepted"}},
    openapi_extra=_BODY,
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
    if x_kyra_signature and not x_kyra_token:  # whatever the hook: ids stay unprobeable
        raise ApiError(401, "unauthorized", OLD_SIGNATURE)
    accepted = _authentic(kyra, hook, body, x_kyra_token, request.headers) if hook else False
    if hook is None or accepted is False:
        raise _denied()
    inputs = _inputs(body)
    record = wf_store.get_workflow_by_id(kyra.store, hook.workflow_id)
    if record.workflow.trigger.kind is not TriggerKind.WEBHOOK:
        raise ApiError(
            409, "not_a_webhook_workflow", f"workflow {record.name!r} has no webhook trigger"
        )
    if record.state == WorkflowState.INACTIVE:
        raise ApiError(409, "workflow_inactive", f"workflow {record.name!r} is inactive")
    message_id = accepted if isinstance(accepted, str) else None
    if message_id is not None:
        now = kyra.clock.now()
        keep = timedelta(seconds=2 * signatures.TOLERANCE_SECONDS)
        first, earlier = api_store.accept_webhook_message(
            kyra.store, hook.hook_id, message_id, now, now + keep
        )
        if not first:  # a sender's retry, or a replay: nothing new runs
            return JSONResponse({"execution_id": earlier, "status": "duplicate"}, status_code=200)
    execution_id = exec_store.create_execution(
        kyra.store,
        tenant_id=hook.tenant_id,
        workflow_id=record.id,
        inputs=inputs,
        trigger="webhook",
    )
    kyra.work_queued()
    if message_id is not None:
        api_store.link_webhook_message(kyra.store, hook.hook_id, message_id, execution_id)
    return JSONResponse({"execution_id": execution_id, "status": "queued"}, status_code=202)
