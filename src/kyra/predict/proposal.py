"""The proactive fix: raise a step's timeout before its runs start timing out.

The same change the timeout remedy makes after a failure (double, capped at
`max_timeout_seconds`; a `SetTimeout` op validated against the patch bounds), passed
through the same gate, recorded as a `proposed` fix with an audit record. It is a
proposal, never applied on its own: nothing failed yet, so a person decides.
"""

from __future__ import annotations

import logging
from typing import Any

from kyra.app import Kyra
from kyra.healing import gate
from kyra.healing.lifecycle import AuditKind, FixStatus
from kyra.healing.patches import ConfigPatch, SetTimeout, diff
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import ErrorClass
from kyra.i18n import Catalog, translate
from kyra.store import healing as heal_store
from kyra.store.tenants import get_tenant_by_id
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import effective_config

log = logging.getLogger("kyra.predict")

TEXT: Catalog = {
    "proactive_timeout": {
        "en": "proactive: timeout of step {step} {before:g} s → {after:g} s (p95 latency "
        "{p95} s is {percent}% of the timeout)",
        "es": "preventivo: timeout del paso {step} {before:g} s → {after:g} s (la latencia "
        "p95 de {p95} s es el {percent}% del timeout)",
    },
}


def propose_timeout(
    kyra: Kyra,
    settings: HealingSettings,
    record: WorkflowRecord,
    step_name: str,
    execution_id: str,
    values: dict[str, Any],
) -> tuple[str, float] | None:
    """The proposed fix's id and new timeout, or None when the gate refuses or the
    timeout is already at its cap (both audited). `values`: `p95` and `percent`."""
    step = record.workflow.step(step_name)
    current = effective_config(record.workflow.config, step).timeout
    cap = settings.max_timeout_seconds
    tenant = get_tenant_by_id(kyra.store, record.tenant_id)
    now = kyra.clock.now()
    where: dict[str, Any] = {
        "tenant_id": tenant.id,
        "workflow_id": record.id,
        "execution_id": execution_id,
        "actor": "kyra",
        "at": now,
    }
    if current >= cap:
        summary = f"step {step_name}: timeout {current:g} s is already at its cap {cap:g} s"
        heal_store.add_audit(kyra.store, kind=AuditKind.PROACTIVE_SKIPPED, **where, summary=summary)
        return None
    new = min(current * 2, cap)
    patch = ConfigPatch(ops=(SetTimeout(step=step_name, seconds=new),))
    preview = patch.apply(record.workflow.config, {s.name for s in record.workflow.steps})
    decision = gate.check(
        kyra.store,
        settings,
        gate.GateRequest(
            tenant_id=tenant.id,
            tier=tenant.tier,
            workflow_id=record.id,
            error_class=ErrorClass.TIMEOUT_ERROR.value,
            safety="GREEN",
            confidence=100,
            automatic=False,
        ),
        now,
    )
    facts = {"p95": values["p95"], "percent": values["percent"]}
    facts |= {"step": step_name, "before": current, "after": new}
    summary = translate(TEXT, "proactive_timeout", "en", **facts)
    if not decision.allowed:
        blocked = f"{summary} — blocked ({decision.limit}): {decision.reason}"
        heal_store.add_audit(kyra.store, kind=AuditKind.PROACTIVE_BLOCKED, **where, summary=blocked)
        return None
    patch_json = patch.model_dump(mode="json")
    fix_id = heal_store.create_fix(
        kyra.store,
        tenant_id=tenant.id,
        workflow_id=record.id,
        execution_id=execution_id,
        step_name=step_name,
        error_class=ErrorClass.TIMEOUT_ERROR.value,
        safety="GREEN",
        confidence=100,
        tier="rules",
        status=FixStatus.PROPOSED,
        reason=summary,
        diagnosis={"proactive": True, "reason_key": "proactive_timeout", "values": facts},
        patch=patch_json,
        diff={"changes": diff(record.workflow.config, preview)},
        created_at=now,
        updated_at=now,
    )
    heal_store.add_audit(
        kyra.store,
        kind=AuditKind.FIX_PROPOSED,
        **where,
        summary=summary,
        fix_id=fix_id,
        details={"patch": patch_json, "proactive": True},
    )
    log.info("proactive fix %s proposed: %s", fix_id[:8], summary)
    return fix_id, new
