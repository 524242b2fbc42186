"""People's decisions (approve, reject, rollback) and the kill switch."""

from __future__ import annotations

from typing import Any

from kyra.engine.error_context import ErrorContext
from kyra.engine.scopes import scope_of
from kyra.engine.states import WorkflowState
from kyra.errors import ConflictError
from kyra.healing import gate
from kyra.healing._base import HealerBase, HealOutcome, _patch_json, _patch_with_value, _step_names
from kyra.healing.candidates import check_value
from kyra.healing.messages import MESSAGES
from kyra.healing.patches import ConfigPatch, diff
from kyra.healing.taxonomy import ErrorClass
from kyra.i18n import translate
from kyra.store import executions as exec_store
from kyra.store import fleet as fleet_store
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.healing import FixInfo
from kyra.store.tenants import get_tenant_by_id
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import WorkflowConfig, effective_config


class DecisionsMixin(HealerBase):
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
        heal_store.update_fix(self.store, fix.id, status="blocked", outcome="none", reason=reason)
        self._audit(
            kind="blocked",
            tenant_id=fix.tenant_id,
            workflow_id=fix.workflow_id,
            fix_id=fix.id,
            summary=reason,
        )
        record = wf_store.get_workflow_by_id(self.store, fix.workflow_id)
        self._move(record, WorkflowState.NEEDS_ATTENTION, reason, fix.rerun_execution_id)
        self._event_raw(
            "needs_attention",
            fix.tenant_id,
            fix.workflow_id,
            fix.workflow_name,
            fix.rerun_execution_id,
            fix.id,
            fix.execution_id,
            reason=reason,
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
            self._now(),
        )
        if not decision.allowed:
            raise ConflictError(f"approval blocked ({decision.limit}): {decision.reason}")
        patch = _patch_with_value(ConfigPatch.model_validate(fix.patch), value)
        new_config = patch.apply(record.workflow.config, _step_names(record))
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
        ctx = ErrorContext.model_validate(
            exec_store.get_execution(self.store, fix.execution_id or "").error_context or {}
        )
        self._move(record, WorkflowState.FIXING, f"fix {fix.id[:8]} approved", fix.execution_id)
        rerun_id, at = self._schedule_rerun(record, ctx, 0.0)
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
        heal_store.update_fix(
            self.store,
            fix.id,
            status="approved",
            decided_by=actor,
            decided_at=self._now(),
            from_version=record.config_version,
            to_version=to_version,
            patch=_patch_json(patch),
            diff={"changes": changes},
            **rerun,
        )
        self._audit(
            kind="approved",
            actor=actor,
            tenant_id=fix.tenant_id,
            workflow_id=record.id,
            fix_id=fix.id,
            summary=f"approved: {fix.reason}",
            details={"diff": changes},
        )
        self._event_raw(
            "approved",
            fix.tenant_id,
            record.id,
            record.name,
            rerun_id,
            fix.id,
            fix.execution_id,
            fix=fix.id[:8],
            actor=actor,
            from_version=record.config_version,
            to_version=to_version,
        )

    def reject(
        self, fix_id: str, *, actor: str = "user", reason: str = "", tenant_id: str | None = None
    ) -> FixInfo:
        fix = heal_store.get_fix(self.store, fix_id, tenant_id=tenant_id)
        if fix.status != "proposed":
            raise ConflictError(f"fix {fix.id[:8]} is {fix.status}, not proposed")
        heal_store.update_fix(
            self.store,
            fix.id,
            status="rejected",
            decided_by=actor,
            decided_at=self._now(),
            reason=reason or fix.reason,
        )
        self._audit(
            kind="rejected",
            actor=actor,
            tenant_id=fix.tenant_id,
            workflow_id=fix.workflow_id,
            fix_id=fix.id,
            summary=reason or "rejected",
        )
        self._event_raw(
            "rejected",
            fix.tenant_id,
            fix.workflow_id,
            fix.workflow_name,
            None,
            fix.id,
            fix.execution_id,
            fix=fix.id[:8],
            actor=actor,
        )
        return heal_store.get_fix(self.store, fix.id)

    def _forget_pacing(self, fix: FixInfo) -> str | None:
        """A rolled-back rate-limit fix takes the pacing its diagnosis learned with it:
        the host it was learned from starts fresh (what it says next is learned again)."""
        if fix.error_class != ErrorClass.RATE_LIMIT_EXCEEDED or fix.execution_id is None:
            return None
        context = exec_store.get_execution(self.store, fix.execution_id).error_context or {}
        url = ((context.get("execution_context") or {}).get("params") or {}).get("url")
        if not isinstance(url, str):
            return None
        host = scope_of(url)[0]
        if host and fleet_store.reset(self.store, fix.tenant_id, host):
            return host
        return None

    def rollback(
        self,
        fix_id: str,
        *,
        actor: str = "user",
        reason: str = "",
        automatic: bool = False,
        tenant_id: str | None = None,
    ) -> FixInfo:
        """Restore the config version from before the fix, as a new version."""
        fix = heal_store.get_fix(self.store, fix_id, tenant_id=tenant_id)
        if fix.status not in ("applied", "approved", "failed") or fix.from_version is None:
            raise ConflictError(f"fix {fix.id[:8]} is {fix.status}; there is nothing to roll back")
        record = wf_store.get_workflow_by_id(self.store, fix.workflow_id)
        if record.config_version != fix.to_version:
            raise ConflictError(
                f"the config moved on since fix {fix.id[:8]} (now v{record.config_version}, "
                f"the fix made v{fix.to_version}); roll back the later changes first"
            )
        previous = wf_store.get_config_version(self.store, record.id, fix.from_version)
        version = wf_store.add_config_version(
            self.store,
            record.id,
            WorkflowConfig.model_validate(previous.config),
            author="kyra" if automatic else "user",
            reason=f"rollback of fix {fix.id[:8]}" + (f": {reason}" if reason else ""),
            fix_id=fix.id,
            expected_version=record.config_version,
        )
        heal_store.update_fix(
            self.store, fix.id, status="rolled_back", settled=True, reason=reason or fix.reason
        )
        forgotten = self._forget_pacing(fix)
        self._audit(
            kind="rollback",
            actor=actor,
            tenant_id=fix.tenant_id,
            workflow_id=record.id,
            fix_id=fix.id,
            summary=reason or "rolled back by hand",
            details={
                "from_version": fix.to_version,
                "to_version": version.number,
                **({"forgot_pacing_for": forgotten} if forgotten else {}),
            },
        )
        if automatic:
            self._move(record, WorkflowState.NEEDS_ATTENTION, reason, None)
        self._event_raw(
            "rolled_back",
            fix.tenant_id,
            record.id,
            record.name,
            None,
            fix.id,
            fix.execution_id,
            fix=fix.id[:8],
            to_version=fix.to_version,
            new_version=version.number,
            reason=reason or actor,
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
