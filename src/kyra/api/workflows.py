"""`/api/v1/workflows`: create from YAML/JSON, list, show with history, activate,
deactivate, delete, run now, and the workflow's webhook credentials."""

from __future__ import annotations

import contextlib
import json
import secrets
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kyra.api import schemas as s
from kyra.api import views
from kyra.api.auth import Auth, digest, kyra_of
from kyra.api.errors import ApiError
from kyra.api.paging import PAGE_HEADERS, CursorParam, decode, limit_param, page, paged
from kyra.api.runs import run_and_heal
from kyra.engine.states import WorkflowState, sources_of
from kyra.errors import InputError, NotFoundError, SecretError
from kyra.healing.carry import Carried
from kyra.inputs import load_json
from kyra.service import apply_workflow_carrying
from kyra.store import api as api_store
from kyra.store import executions as exec_store
from kyra.store import secrets as secret_store
from kyra.store import workflows as wf_store
from kyra.store.db import Store
from kyra.store.tenants import get_tenant_by_id
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.loader import load_workflow_text
from kyra.workflows.model import TriggerKind

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])
MAX_DOCUMENT_BYTES = 1_000_000
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/plain")
GENERATED_SECRET = "KYRA_WEBHOOK_"

_CREATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/WorkflowIn"}},
            "application/yaml": {
                "schema": {"type": "string", "description": "The workflow document as YAML."}
            },
        },
    }
}


def hook_url(request: Request, hook_id: str) -> str:
    base = request.app.state.base_url or str(request.base_url)
    return f"{base.rstrip('/')}/hooks/{hook_id}"


def _webhook(request: Request, record: WorkflowRecord) -> dict[str, Any] | None:
    hook = api_store.webhook_of(kyra_of(request).store, record.id)
    if hook is None:
        return None
    return {
        "hook_id": hook.hook_id,
        "url": hook_url(request, hook.hook_id),
        "signing_secret_name": hook.signing_secret,
    }


async def _document(request: Request, replace: bool) -> tuple[str, str, bool]:
    """(text, source name, replace) from a JSON envelope or a raw YAML body."""
    body = await request.body()
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ApiError(
            413, "too_large", f"a workflow document is at most {MAX_DOCUMENT_BYTES} bytes"
        )
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in YAML_TYPES:
        try:
            return body.decode("utf-8"), "request.yaml", replace
        except UnicodeDecodeError as exc:
            raise ApiError(400, "bad_request", "the document is not UTF-8 text") from exc
    if ctype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send application/json or application/yaml")
    try:
        data = load_json(body)
    except InputError as exc:
        raise ApiError(400, "bad_request", f"the body is not valid JSON: {exc}") from exc
    envelope = s.WorkflowIn.model_validate(data)  # ValidationError → 422
    if envelope.source is not None:
        return envelope.source, "request", envelope.replace or replace
    return json.dumps(envelope.definition), "request.json", envelope.replace or replace


@router.post(
    "",
    status_code=201,
    response_model=s.WorkflowSaved,
    openapi_extra=_CREATE_BODY,
    responses={200: {"model": s.WorkflowSaved, "description": "Updated (replace=true)"}},
)
async def create_workflow(
    request: Request,
    who: Auth,
    replace: bool = Query(False, description="Update the workflow of the same name."),
) -> Response:
    """Create (or with `replace`, update) a workflow from YAML or JSON."""
    text, source, replace = await _document(request, replace)
    kyra = kyra_of(request)

    def parse_and_apply() -> tuple[WorkflowRecord, bool, Carried]:
        workflow = load_workflow_text(
            text,
            source,
            kyra.registry,
            min_trigger_interval=kyra.settings.min_trigger_interval_seconds,
        )
        return apply_workflow_carrying(
            kyra, who.tenant_id, workflow, replace=replace, source=source
        )

    # In a worker thread, not on the event loop: a large document takes seconds of CPU
    # to parse (pure-Python YAML with line numbers), and on the loop every tenant's
    # requests, the probes included, waited for it.
    record, created, carried = await run_in_threadpool(parse_and_apply)
    language = get_tenant_by_id(kyra.store, who.tenant_id).lang_code
    body = s.WorkflowSaved(
        **views.workflow_summary(record, _webhook(request, record)),
        created=created,
        fixes=s.CarriedFixes.model_validate(carried.as_dict(language)),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("", response_model=list[s.WorkflowSummary], responses=PAGE_HEADERS)
def list_workflows(
    request: Request,
    response: Response,
    who: Auth,
    cursor: CursorParam = None,
    limit: int = limit_param(100),
) -> list[dict[str, Any]]:
    """The workflows of your tenant by name, with their state and config version."""
    records = wf_store.list_workflows(
        kyra_of(request).store, who.tenant_id, limit=limit + 1, after_key=decode(cursor, 1)
    )
    shown, next_cursor = page(records, limit, lambda r: (r.name,))
    items = [views.workflow_summary(r, _webhook(request, r)) for r in shown]
    return paged(request, response, items, next_cursor)


def _get(request: Request, who: Auth, name: str) -> WorkflowRecord:
    return wf_store.get_workflow(kyra_of(request).store, who.tenant_id, name)


@router.get("/{name}", response_model=s.WorkflowDetail)
def get_workflow(request: Request, who: Auth, name: str) -> dict[str, Any]:
    """A workflow, its current config, its config history and its state history."""
    store = kyra_of(request).store
    record = _get(request, who, name)
    return {
        **views.workflow_summary(record, _webhook(request, record)),
        "config": record.workflow.config.model_dump(mode="json"),
        "config_history": [
            {
                "version": v.number,
                "author": v.author,
                "reason": v.reason,
                "fix_id": v.fix_id,
                "created_at": v.created_at,
                "config": v.config,
            }
            for v in wf_store.config_history(store, record.id)
        ],
        "state_history": [
            {
                "from_state": c.from_state,
                "to_state": c.to_state,
                "reason": c.reason,
                "execution_id": c.execution_id,
                "at": c.at,
            }
            for c in wf_store.state_history(store, record.id)
        ],
    }


def _move(request: Request, who: Auth, name: str, target: WorkflowState) -> dict[str, Any]:
    record = _get(request, who, name)
    if record.state != target:
        wf_store.transition_state(
            kyra_of(request).store,
            record.id,
            target,
            allowed_from=sources_of(target),
            reason=f"set {target} by {who.actor}",
        )
        record = _get(request, who, name)
    return views.workflow_summary(record, _webhook(request, record))


@router.post("/{name}/activate", response_model=s.WorkflowSummary)
def activate_workflow(request: Request, who: Auth, name: str) -> dict[str, Any]:
    """Let the workflow's triggers fire again (also clears `needs_attention`)."""
    return _move(request, who, name, WorkflowState.ACTIVE)


@router.post("/{name}/deactivate", response_model=s.WorkflowSummary)
def deactivate_workflow(request: Request, who: Auth, name: str) -> dict[str, Any]:
    """Pause the workflow: no trigger fires it until it is activated."""
    return _move(request, who, name, WorkflowState.INACTIVE)


@router.delete("/{name}", status_code=204)
def delete_workflow(request: Request, who: Auth, name: str) -> Response:
    """Delete a workflow with its history (the audit trail is kept)."""
    kyra = kyra_of(request)
    record = _get(request, who, name)
    hook = api_store.webhook_of(kyra.store, record.id)
    api_store.delete_workflow(kyra.store, who.tenant_id, name)
    if hook is not None and hook.signing_secret.startswith(GENERATED_SECRET):
        _forget_secret(kyra.store, who.tenant_id, hook.signing_secret)
    return Response(status_code=204)


@router.post("/{name}/runs", status_code=202, response_model=s.RunsAccepted)
async def run_workflow_batch(
    request: Request, who: Auth, name: str, body: s.RunsIn
) -> JSONResponse:
    """Queue many runs of a workflow at once (up to 1,000, one transaction): for bulk
    intake, far faster than one request per run."""
    kyra = kyra_of(request)
    workflow_id = wf_store.workflow_id(kyra.store, who.tenant_id, name)
    ids = exec_store.create_executions(
        kyra.store,
        tenant_id=who.tenant_id,
        workflow_id=workflow_id,
        inputs=[run.inputs for run in body.runs],
    )
    kyra.work_queued()
    accepted = s.RunsAccepted(execution_ids=ids, status="queued", workflow=name)
    return JSONResponse(accepted.model_dump(), status_code=202)


@router.post(
    "/{name}/run",
    status_code=202,
    response_model=s.RunAccepted,
    responses={200: {"model": s.RunOut, "description": "wait=true: the finished (healed) run"}},
)
async def run_workflow(
    request: Request,
    who: Auth,
    name: str,
    body: s.RunIn | None = None,
    wait: bool = Query(False, description="Run in-process, heal, and return the result."),
) -> Response:
    """Queue a run now (the runtime of `kyra serve` picks it up), or with `wait=true` run
    it here, heal a failure and return the outcome."""
    kyra = kyra_of(request)
    inputs = body.inputs if body else {}
    if not wait:  # the hot path: one indexed read, one insert, wake the workers
        workflow_id = wf_store.workflow_id(kyra.store, who.tenant_id, name)
        execution_id = exec_store.create_execution(
            kyra.store, tenant_id=who.tenant_id, workflow_id=workflow_id, inputs=inputs
        )
        kyra.work_queued()
        accepted = s.RunAccepted(execution_id=execution_id, status="queued", workflow=name)
        return JSONResponse(accepted.model_dump(), status_code=202)
    record = _get(request, who, name)
    drive = await request.app.state.runs.call(run_and_heal, kyra, record, inputs)
    final = drive.final
    out = s.RunOut(
        execution_id=final.execution_id,
        workflow=final.workflow_name,
        status=final.status,
        failed_step=final.failed_step,
        duration_ms=round(final.duration_ms, 1),
        outputs=final.outputs,
        error=final.error_context.model_dump(mode="json") if final.error_context else None,
        healing=[o.action for o in drive.outcomes],
        executions=[r.execution_id for r in drive.results],
        workflow_state=_get(request, who, name).state,
    )
    return JSONResponse(out.model_dump(mode="json"), status_code=200)


@router.post("/{name}/webhook", status_code=201, response_model=s.WebhookCreated)
def create_webhook(
    request: Request, who: Auth, name: str, body: s.WebhookIn | None = None
) -> s.WebhookCreated:
    """Create or rotate the workflow's webhook: a new URL, token and signing secret
    (shown once). The workflow must have `trigger: webhook`."""
    kyra = kyra_of(request)
    record = _get(request, who, name)
    if record.workflow.trigger.kind is not TriggerKind.WEBHOOK:
        raise ApiError(409, "not_a_webhook_workflow", f"workflow {name!r} has no webhook trigger")
    old = api_store.webhook_of(kyra.store, record.id)
    hook_id = secrets.token_hex(16)
    token = secrets.token_urlsafe(32)
    generated: str | None = None
    if body and body.signing_secret:
        secret_name = body.signing_secret
        if secret_name not in secret_store.secret_names(kyra.store, who.tenant_id):
            raise SecretError(f"no secret named {secret_name!r} (set it first)")
    else:
        secret_name = GENERATED_SECRET + hook_id[:12].upper()
        generated = secrets.token_urlsafe(32)
        secret_store.set_secret(kyra.store, kyra.box, who.tenant_id, secret_name, generated)
    api_store.set_webhook(kyra.store, who.tenant_id, record.id, hook_id, digest(token), secret_name)
    if old is not None and old.signing_secret.startswith(GENERATED_SECRET):
        _forget_secret(kyra.store, who.tenant_id, old.signing_secret)
    return s.WebhookCreated(
        hook_id=hook_id,
        url=hook_url(request, hook_id),
        token=token,
        signing_secret_name=secret_name,
        signing_secret=generated,
    )


@router.delete("/{name}/webhook", status_code=204)
def delete_webhook(request: Request, who: Auth, name: str) -> Response:
    """Remove the webhook: its URL stops accepting requests at once."""
    kyra = kyra_of(request)
    record = _get(request, who, name)
    hook = api_store.webhook_of(kyra.store, record.id)
    if hook is None:
        raise ApiError(404, "not_found", f"workflow {name!r} has no webhook")
    api_store.delete_webhook(kyra.store, record.id)
    if hook.signing_secret.startswith(GENERATED_SECRET):
        _forget_secret(kyra.store, who.tenant_id, hook.signing_secret)
    return Response(status_code=204)


def _forget_secret(store: Store, tenant_id: str, name: str) -> None:
    with contextlib.suppress(NotFoundError):  # already gone: nothing left to undo
        secret_store.delete_secret(store, tenant_id, name)
