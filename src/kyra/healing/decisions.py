"""People's decisions on fixes (approve, reject) and the kill switch stopping fixes in
flight. Rollback, which a person may also ask for, is `rollback.Rollbacks`."""

from __future__ import annotations

from typing import Any

from kyra.engine import reruns
from kyra.engine.states import WorkflowState
from kyra.errors import ConflictError
from kyra.healing import gate
from kyra.healing.candidates import check_value
from kyra.healing.ledger import Audit, FixChange, Ledger, about_fix
from kyra.healing.messages import MESSAGES
from kyra.healing.outcome import HealOutcome
from kyra.healing.patches import ConfigPatch, apply_to, diff, patch_json, patch_with_value
from kyra.healing.settings import HealingSettings
from kyra.i18n import translate
from kyra.store import executions as exec_store
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.healing import FixInfo
from kyra.store.tenants import get_tenant_by_id
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import WorkflowConfig, effective_config


class Decisions:
    """Carries out what people decide about fixes, through the ledger.

    Parameters:
        ledger: where decisions are written.
        settings: the gate's limits an approval must pass.
    """

    def __init__(self, ledger: Ledger, settings: HealingSettings) -> None:
        self.ledger = ledger
        self.store = ledger.store
        self.settings = settings

    # -- the kill switch --------------------------------------------------------------------

    def may_rerun(self, execution_id: str) -> bool:
        """Called just before a heal re-run starts: an engaged kill switch stops the fix in
        flight (the re-run is cancelled, the workflow asks for attention)."""
        fix = heal_store.fix_for_rerun(self.store, execution_id)
        if fix is None or heal_store.active_kill_switch(self.store, fix.tenant_id) is None:
            return True
        self.stop_fix(fix)
        return False

    def stop_all(self, tenant_id: str | None = None) -> list[str]:
        """Stop every fix in flight (all tenants when `tenant_id` is None)."""
        stopped = []
        for fix in heal_store.pending_fixes(self.store, tenant_id):
            self.stop_fix(fix)
            stopped.append(fix.id)
        return stopped

    def stop_fix(self, fix: FixInfo) -> None:
        if fix.rerun_execution_id:
            exec_store.cancel_execution(self.store, fix.rerun_execution_id)
        tenant = get_tenant_by_id(self.store, fix.tenant_id)
        reason = translate(MESSAGES, "kill_switch_cancelled", tenant.lang_code, fix=fix.id[:8])
        record = wf_store.get_workflow_by_id(self.store, fix.workflow_id)
        self.ledger.move(record, WorkflowState.NEEDS_ATTENTION, reason, fix.rerun_execution_id)
        self.ledger.record(
            fix=FixChange(fix.id, {"status": "blocked", "outcome": "none", "reason": reason}),
            audit=Audit(
                kind="blocked",
                tenant_id=fix.tenant_id,
                workflow_id=fix.workflow_id,
                fix_id=fix.id,
                summary=reason,
            ),
            notes=[about_fix("needs_attention", fix, fix.rerun_execution_id, reason=reason)],
        )

    # -- people's decisions -----------------------------------------------------------------

    def approve(
        self, fix_id: str, *, actor: str = "user", value: Any = None, tenant_id: str | None = None
    ) -> HealOutcome:
        """Apply a proposed fix as a new config version (optionally with another value for
        its field) and schedule the re-run from the failed step."""
        fix = heal_store.get_fix(self.store, fix_id, tenant_id=tenant_id)
        if fix.status != "proposed":
            raise ConflictError(f"fix {fix.id[:8]} is {fix.status}, not proposed")
        check_value(fix.id, fix.patch, value)  # never write an empty value a person owes
        record = wf_store.get_workflow_by_id(self.store, fix.workflow_id)
        tenant = get_tenant_by_id(self.store, fix.tenant_id)
        decision = gate.check(
            self.store,
            self.settings,
            gate.GateRequest(
                tenant_id=tenant.id,
                tier=tenant.tier,
                workflow_id=record.id,
                error_class=fix.error_class,
                safety="YELLOW",
                confidence=fix.confidence,
                automatic=False,
            ),
            self.ledger.now(),
        )
        if not decision.allowed:
            raise ConflictError(f"approval blocked ({decision.limit}): {decision.reason}")
        patch = patch_with_value(ConfigPatch.model_validate(fix.patch), value)
        new_config = apply_to(patch, record.workflow)
        if fix.diagnosis.get("proactive"):
            _still_raises_timeout(fix, record, new_config)
        version = wf_store.add_config_version(
            self.store,
            record.id,
            new_config,
            author="user",
            reason=f"approved fix {fix.id[:8]}: {fix.reason}",
            fix_id=fix.id,
        )
        if fix.diagnosis.get("proactive"):  # proposed ahead (`kyra.predict`): nothing failed,
            # so nothing to re-run (re-running a succeeded run would repeat its side effects);
            # the workflow's next runs show whether the trend eases
            self._approved(fix, record, version.number, patch, new_config, actor, None, {})
            return HealOutcome("approved", record.id, fix.id)
        self.ledger.move(
            record, WorkflowState.FIXING, f"fix {fix.id[:8]} approved", fix.execution_id
        )
        at = self.ledger.now()
        rerun_id = reruns.schedule_rerun(self.store, fix.execution_id or "", at, trigger="heal")
        rerun = {"outcome": "pending", "rerun_execution_id": rerun_id, "rerun_at": at}
        self._approved(fix, record, version.number, patch, new_config, actor, rerun_id, rerun)
        return HealOutcome("rerun", record.id, fix.id, rerun_id)

    def _approved(
        self,
        fix: FixInfo,
        record: WorkflowRecord,
        to_version: int,
        patch: ConfigPatch,
        new_config: WorkflowConfig,
        actor: str,
        rerun_id: str | None,
        rerun: dict[str, Any],
    ) -> None:
        """Record an approval: the fix row, the audit record, the event."""
        changes = diff(record.workflow.config, new_config)
        self.ledger.record(
            fix=FixChange(
                fix.id,
                {
                    "status": "approved",
                    "decided_by": actor,
                    "decided_at": self.ledger.now(),
                    "from_version": record.config_version,
                    "to_version": to_version,
                    "patch": patch_json(patch),
                    "diff": {"changes": changes},
                    **rerun,
                },
            ),
            audit=Audit(
                kind="approved",
                actor=actor,
                tenant_id=fix.tenant_id,
                workflow_id=record.id,
                fix_id=fix.id,
                summary=f"approved: {fix.reason}",
                details={"diff": changes},
            ),
            notes=[
                about_fix(
                    "approved",
                    fix,
                    rerun_id,
                    workflow=record.name,
                    fix=fix.id[:8],
                    actor=actor,
                    from_version=record.config_version,
                    to_version=to_version,
                )
            ],
        )

    def reject(
        self, fix_id: str, *, actor: str = "user", reason: str = "", tenant_id: str | None = None
    ) -> FixInfo:
        fix = heal_store.get_fix(self.store, fix_id, tenant_id=tenant_id)
        if fix.status != "proposed":
            raise ConflictError(f"fix {fix.id[:8]} is {fix.status}, not proposed")
        self.ledger.record(
            fix=FixChange(
                fix.id,
                {
                    "status": "rejected",
                    "decided_by": actor,
                    "decided_at": self.ledger.now(),
                    "reason": reason or fix.reason,
                },
            ),
            audit=Audit(
                kind="rejected",
                actor=actor,
                tenant_id=fix.tenant_id,
                workflow_id=fix.workflow_id,
                fix_id=fix.id,
                summary=reason or "rejected",
            ),
            notes=[about_fix("rejected", fix, None, fix=fix.id[:8], actor=actor)],
        )
        return heal_store.get_fix(self.store, fix.id)


def _still_raises_timeout(fix: FixInfo, record: WorkflowRecord, new: WorkflowConfig) -> None:
    """A proactive timeout raise proposed against an older config (healing, or a person,
    raised the timeout since) must not lower it now: refused as out of date."""
    step = record.workflow.step(fix.step_name or "")
    before = effective_config(record.workflow.config, step).timeout
    if effective_config(new, step).timeout <= before:
        raise ConflictError(
            f"fix {fix.id[:8]} is out of date: step {step.name}'s timeout is already "
            f"{before:g} s; reject it"
        )
