"""`kyra fixes retry ID`: a blocked fix tried again once its cause is gone.

A fix blocked by the gate (kill switch, quota, cost ceiling, cooldown...) leaves its
workflow in `needs_attention`; without this, nothing could take it out again but a person
editing the workflow. A retry asks the same gate first: while the cause is still there it
is refused with the gate's reason (nothing changes). Once allowed, the failure is healed
again through the normal loop (diagnosis → gate → apply or propose), or, for a fix the
kill switch stopped before its re-run (its config version is still current), the re-run
is planned again. Either way an audit record names who retried it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kyra.engine import reruns
from kyra.engine.error_context import ErrorContext
from kyra.engine.states import WorkflowState
from kyra.errors import ConflictError
from kyra.healing import gate
from kyra.healing.ledger import Audit, FixChange
from kyra.healing.messages import MESSAGES
from kyra.healing.outcome import HealOutcome
from kyra.i18n import translate
from kyra.store import executions as exec_store
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.healing import FixInfo
from kyra.store.tenants import TenantInfo, get_tenant_by_id

if TYPE_CHECKING:
    from kyra.healing.healer import Healer


def retry_blocked(
    healer: Healer, fix_id: str, *, actor: str = "user", tenant_id: str | None = None
) -> HealOutcome:
    """Heal a blocked fix's failure again if the gate now allows it; ConflictError (one
    line, in the tenant's language) when the fix is not blocked or its cause remains."""
    store = healer.store
    fix = heal_store.get_fix(store, fix_id, tenant_id=tenant_id)
    tenant = get_tenant_by_id(store, fix.tenant_id)
    lang = healer.say_lang(tenant)
    if fix.status != "blocked":
        raise ConflictError(
            translate(MESSAGES, "retry_not_blocked", lang, fix=fix.id[:8], status=fix.status)
        )
    record = wf_store.get_workflow_by_id(store, fix.workflow_id)
    if record.state != WorkflowState.NEEDS_ATTENTION:
        raise ConflictError(
            translate(MESSAGES, "retry_wrong_state", lang, fix=fix.id[:8], state=record.state)
        )
    decision = gate.check(
        store, healer.settings, _request(healer, fix, tenant), healer.ledger.now()
    )
    if not decision.allowed:
        raise ConflictError(
            translate(
                MESSAGES,
                "retry_still_blocked",
                lang,
                fix=fix.id[:8],
                limit=decision.limit,
                reason=gate.reason_in(decision, lang),
            )
        )
    summary = translate(MESSAGES, "retried", tenant.lang_code, fix=fix.id[:8], actor=actor)
    # Re-run a fix stopped in flight whose config version is still current (nothing is
    # patched twice); otherwise heal the failure again from a `failed` workflow.
    stopped = fix.to_version is not None and fix.to_version == record.config_version
    target = WorkflowState.FIXING if stopped else WorkflowState.FAILED
    if not healer.ledger.move(record, target, summary, fix.execution_id):
        raise ConflictError(
            translate(MESSAGES, "retry_wrong_state", lang, fix=fix.id[:8], state=record.state)
        )
    if not stopped:
        _record(healer, fix, summary, actor, status="superseded")
        failed = exec_store.get_execution(store, fix.execution_id or "")
        return healer.heal(ErrorContext.model_validate(failed.error_context or {}))
    at = healer.ledger.now()
    rerun_id = reruns.schedule_rerun(store, fix.execution_id or "", at, trigger="heal")
    _record(
        healer,
        fix,
        summary,
        actor,
        status="applied",
        outcome="pending",
        rerun_execution_id=rerun_id,
        rerun_at=at,
    )
    return HealOutcome("rerun", record.id, fix.id, rerun_id, message=summary)


def _record(healer: Healer, fix: FixInfo, summary: str, actor: str, **changes: Any) -> None:
    """The fix row and its audit record of a retry."""
    healer.ledger.record(
        fix=FixChange(fix.id, {"decided_by": actor, **changes}),
        audit=Audit(
            kind="fix_retried",
            actor=actor,
            tenant_id=fix.tenant_id,
            workflow_id=fix.workflow_id,
            fix_id=fix.id,
            execution_id=fix.execution_id,
            summary=summary,
            details={"rerun_execution_id": changes.get("rerun_execution_id")},
        ),
    )


def _request(healer: Healer, fix: FixInfo, tenant: TenantInfo) -> gate.GateRequest:
    automatic = fix.safety == "GREEN" and fix.confidence >= healer.settings.confidence_threshold
    return gate.GateRequest(
        tenant_id=tenant.id,
        tier=tenant.tier,
        workflow_id=fix.workflow_id,
        error_class=fix.error_class,
        safety="GREEN" if automatic else "YELLOW",
        confidence=fix.confidence,
        automatic=automatic,
    )
