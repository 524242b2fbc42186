"""`/api/v1/fixes` (list, show, approve, retry, reject, rollback), `/api/v1/audit` and
`/api/v1/killswitch`: the same operations as `kyra fixes|audit|killswitch`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from kyra.api import schemas as s
from kyra.api import views
from kyra.api.auth import Auth, Principal, kyra_of
from kyra.api.paging import PAGE_HEADERS, CursorParam, decode, limit_param, page, paged
from kyra.api.runs import drive_rerun, healer_for
from kyra.app import Kyra
from kyra.healing.asking import ask_of
from kyra.healing.explain import explain_fix
from kyra.healing.healer import Healer, HealOutcome
from kyra.healing.lifecycle import AuditKind, FixStatus
from kyra.healing.retry import retry_blocked
from kyra.i18n import Lang
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.healing import GLOBAL_SCOPE
from kyra.store.tenants import get_tenant_by_id

router = APIRouter(prefix="/api/v1", tags=["fixes"])


@router.get("/fixes", response_model=list[s.FixOut], responses=PAGE_HEADERS)
def list_fixes(
    request: Request,
    response: Response,
    who: Auth,
    workflow: str | None = Query(None, description="Only this workflow (by name)."),
    status: Annotated[FixStatus | None, Query(description="Only this status.")] = None,
    cursor: CursorParam = None,
    limit: int = limit_param(50),
) -> list[s.FixOut]:
    """Fixes of your tenant, newest first, with their config diff."""
    store = kyra_of(request).store
    workflow_id = wf_store.get_workflow(store, who.tenant_id, workflow).id if workflow else None
    found = heal_store.list_fixes(
        store,
        who.tenant_id,
        workflow_id=workflow_id,
        status=status,
        limit=limit + 1,
        after_key=decode(cursor, 2),
    )
    shown, next_cursor = page(found, limit, heal_store.fix_key)
    return paged(request, response, [views.fix(f) for f in shown], next_cursor)


@router.get("/fixes/{fix_id}", response_model=s.FixDetail)
def get_fix(
    request: Request,
    who: Auth,
    fix_id: str,
    lang: Literal["en", "es"] | None = Query(
        None, description="Language of the texts (default: your tenant's)."
    ),
) -> s.FixDetail:
    """One fix (id or unique prefix ≥ 6 characters): diagnosis, patch, diff, the fix
    explained (what broke, why this fix, what changed, how to avoid it), audit trail."""
    store = kyra_of(request).store
    fix = heal_store.get_fix(store, fix_id, tenant_id=who.tenant_id)
    trail = heal_store.list_audit(store, who.tenant_id, fix_id=fix.id)
    language: Lang = lang or get_tenant_by_id(store, who.tenant_id).lang_code
    return s.FixDetail(
        **views.fix(fix, language).model_dump(),
        diagnosis=fix.diagnosis,
        explanation=s.FixExplanationOut(**explain_fix(fix, language).to_json()),
        audit=[views.audit(a) for a in reversed(trail)],
        **ask_of(store, fix).as_dict(),
    )


def decide_approval(
    kyra: Kyra, who: Principal, fix_id: str, value: object, wait: bool
) -> s.FixDecision:
    """Approve, then (unless `wait` is false) run the re-run here and verify it."""
    healer = healer_for(kyra)
    outcome = healer.approve(fix_id, actor=who.actor, value=value, tenant_id=who.tenant_id)
    return _followed(kyra, who, healer, outcome, fix_id, wait)


def _followed(
    kyra: Kyra, who: Principal, healer: Healer, outcome: HealOutcome, fix_id: str, wait: bool
) -> s.FixDecision:
    """After a decision: run its re-run here (unless `wait` is false), then the fix."""
    rerun = outcome.rerun_execution_id
    results = drive_rerun(kyra, healer, rerun) if wait and rerun else []
    fix = heal_store.get_fix(kyra.store, outcome.fix_id or fix_id, tenant_id=who.tenant_id)
    state = wf_store.get_workflow_by_id(kyra.store, fix.workflow_id).state
    return s.FixDecision(
        fix=views.fix(fix),
        workflow_state=state,
        rerun_execution_id=rerun,
        rerun_status=results[-1].status if results else None,
    )


@router.post("/fixes/{fix_id}/approve", response_model=s.FixDecision)
async def approve_fix(
    request: Request,
    who: Auth,
    fix_id: str,
    body: s.ApproveIn | None = None,
    wait: bool = Query(True, description="Run the re-run now and return its result."),
) -> s.FixDecision:
    """Apply a proposed (YELLOW) fix as a new config version and re-run from the failed
    step; `value` replaces Kyra's suggested value for the field."""
    value = body.value if body else None
    result: s.FixDecision = await request.app.state.runs.call(
        decide_approval, kyra_of(request), who, fix_id, value, wait
    )
    return result


def decide_retry(kyra: Kyra, who: Principal, fix_id: str, wait: bool) -> s.FixDecision:
    """Retry a blocked fix, then (unless `wait` is false) run its re-run here."""
    healer = healer_for(kyra)
    outcome = retry_blocked(healer, fix_id, actor=who.actor, tenant_id=who.tenant_id)
    return _followed(kyra, who, healer, outcome, fix_id, wait)


@router.post("/fixes/{fix_id}/retry", response_model=s.FixDecision)
async def retry_fix(
    request: Request,
    who: Auth,
    fix_id: str,
    wait: bool = Query(True, description="Run the re-run now and return its result."),
) -> s.FixDecision:
    """Heal a blocked fix's failure again once its cause is gone (kill switch off, quota
    or cooldown passed): 409 while the gate still blocks it. Returns the fix the retry
    made (or the same fix, re-run, when the kill switch had stopped it in flight)."""
    result: s.FixDecision = await request.app.state.runs.call(
        decide_retry, kyra_of(request), who, fix_id, wait
    )
    return result


def _decision(kyra: Kyra, fix_id: str, who: Principal) -> s.FixDecision:
    fix = heal_store.get_fix(kyra.store, fix_id, tenant_id=who.tenant_id)
    state = wf_store.get_workflow_by_id(kyra.store, fix.workflow_id).state
    return s.FixDecision(fix=views.fix(fix), workflow_state=state)


@router.post("/fixes/{fix_id}/reject", response_model=s.FixDecision)
def reject_fix(
    request: Request, who: Auth, fix_id: str, body: s.ReasonIn | None = None
) -> s.FixDecision:
    """Reject a proposed fix: nothing changes; the workflow keeps needing attention."""
    kyra = kyra_of(request)
    fix = healer_for(kyra).reject(
        fix_id, actor=who.actor, reason=body.reason if body else "", tenant_id=who.tenant_id
    )
    return _decision(kyra, fix.id, who)


@router.post("/fixes/{fix_id}/rollback", response_model=s.FixDecision)
def rollback_fix(
    request: Request, who: Auth, fix_id: str, body: s.ReasonIn | None = None
) -> s.FixDecision:
    """Restore the config from before the fix, as a new config version."""
    kyra = kyra_of(request)
    fix = healer_for(kyra).rollback(
        fix_id, actor=who.actor, reason=body.reason if body else "", tenant_id=who.tenant_id
    )
    return _decision(kyra, fix.id, who)


@router.get("/audit", response_model=list[s.AuditOut], responses=PAGE_HEADERS, tags=["audit"])
def list_audit(
    request: Request,
    response: Response,
    who: Auth,
    workflow: str | None = Query(None, description="Only this workflow (by name)."),
    cursor: CursorParam = None,
    limit: int = limit_param(100, 5000),
) -> list[s.AuditOut]:
    """The audit trail: every diagnosis, fix, approval, rejection and rollback."""
    store = kyra_of(request).store
    workflow_id = wf_store.get_workflow(store, who.tenant_id, workflow).id if workflow else None
    records = heal_store.list_audit(
        store, who.tenant_id, workflow_id=workflow_id, limit=limit + 1, after_key=decode(cursor, 2)
    )
    shown, next_cursor = page(records, limit, heal_store.audit_key)
    return paged(request, response, [views.audit(r) for r in shown], next_cursor)


def _switch(kyra: Kyra, who: Principal, stopped: list[str] | None = None) -> s.KillSwitchOut:
    active = heal_store.active_kill_switch(kyra.store, who.tenant_id)
    return s.KillSwitchOut(
        enabled=active is not None,
        scope=None if active is None else ("global" if active.scope == GLOBAL_SCOPE else "tenant"),
        reason=active.reason if active else "",
        stopped_fixes=stopped or [],
    )


@router.get("/killswitch", response_model=s.KillSwitchOut, tags=["killswitch"])
def get_killswitch(request: Request, who: Auth) -> s.KillSwitchOut:
    """Whether automatic changes are stopped for your tenant (or globally)."""
    return _switch(kyra_of(request), who)


@router.put("/killswitch", response_model=s.KillSwitchOut, tags=["killswitch"])
def set_killswitch(request: Request, who: Auth, body: s.KillSwitchIn) -> s.KillSwitchOut:
    """Stop (or allow again) every automatic change for your tenant; turning it on also
    stops the fixes in flight. The global switch is for operators (`kyra killswitch`)."""
    kyra = kyra_of(request)
    heal_store.set_kill_switch(
        kyra.store, who.tenant_id, enabled=body.enabled, reason=body.reason, changed_by=who.actor
    )
    heal_store.add_audit(
        kyra.store,
        kind=AuditKind.KILLSWITCH,
        actor=who.actor,
        tenant_id=who.tenant_id,
        summary=f"kill switch {'on' if body.enabled else 'off'} (tenant)"
        + (f": {body.reason}" if body.reason else ""),
    )
    stopped = healer_for(kyra).stop_all(who.tenant_id) if body.enabled else []
    return _switch(kyra, who, stopped)
