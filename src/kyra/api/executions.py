"""`/api/v1/executions`: list with filters, show one with its steps and error context."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter

from kyra.api import schemas as s
from kyra.api import views
from kyra.api.auth import Auth, kyra_of
from kyra.api.paging import PAGE_HEADERS, CursorParam, decode, limit_param, page, paged
from kyra.engine.states import ExecutionStatus
from kyra.store import executions as exec_store
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store

router = APIRouter(prefix="/api/v1/executions", tags=["executions"])


@router.get("", response_model=list[s.ExecutionOut], responses=PAGE_HEADERS)
def list_executions(
    request: Request,
    response: Response,
    who: Auth,
    workflow: str | None = Query(None, description="Only this workflow (by name)."),
    status: Annotated[ExecutionStatus | None, Query(description="Only this status.")] = None,
    cursor: CursorParam = None,
    limit: int = limit_param(50),
) -> Response:
    """Executions of your tenant, newest first."""
    # Clients poll this while their runs go on: no definition parsed, no inputs or error
    # contexts read, and the body serialised in one pass (not validated a second time).
    store = kyra_of(request).store
    workflow_id = wf_store.workflow_id(store, who.tenant_id, workflow) if workflow else None
    found = exec_store.list_executions(
        store,
        who.tenant_id,
        workflow_id=workflow_id,
        status=status.value if status else None,
        limit=limit + 1,
        after_key=decode(cursor, 2),
        payload=False,
    )
    shown, next_cursor = page(found, limit, exec_store.execution_key)
    items = paged(request, response, [views.execution(e) for e in shown], next_cursor)
    headers = {k: v for k, v in response.headers.items() if k in _PAGE_HEADER_NAMES}
    return Response(_LISTED.dump_json(items), media_type="application/json", headers=headers)


_LISTED = TypeAdapter(list[s.ExecutionOut])
_PAGE_HEADER_NAMES = frozenset({"link", "x-next-cursor"})


@router.get("/{execution_id}", response_model=s.ExecutionDetail)
def get_execution(request: Request, who: Auth, execution_id: str) -> s.ExecutionDetail:
    """One execution (id or a unique prefix of at least 6 characters) with its steps and
    the redacted error context of a failure."""
    store = kyra_of(request).store
    info = exec_store.get_execution(store, execution_id, tenant_id=who.tenant_id)
    detail = views.execution_detail(info)
    detail.diagnosis = heal_store.execution_diagnosis(store, who.tenant_id, info.id)
    return detail
