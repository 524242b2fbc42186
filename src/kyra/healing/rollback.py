"""Rollback: a fix undone by restoring the config version from before it, as a new
version. A person asks for it (`kyra fixes rollback`), or verification does when the
failure came back more often after the fix than before it."""

from __future__ import annotations

from kyra.engine.scopes import scope_of
from kyra.engine.states import WorkflowState
from kyra.errors import ConflictError
from kyra.healing.ledger import Audit, FixChange, Ledger, about_fix
from kyra.healing.taxonomy import ErrorClass
from kyra.store import executions as exec_store
from kyra.store import fleet as fleet_store
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.healing import FixInfo
from kyra.workflows.model import WorkflowConfig


class Rollbacks:
    """Rolls fixes back through the ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.store = ledger.store

    def rollback(
        self,
        fix_id: str,
        *,
        actor: str = "user",
        reason: str = "",
        automatic: bool = False,
        tenant_id: str | None = None,
    ) -> FixInfo:
        """Restore the config version from before the fix, as a new version; a
        ConflictError when there is nothing to roll back or later changes sit on top."""
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
        forgotten = self._forget_pacing(fix)
        if automatic:
            self.ledger.move(record, WorkflowState.NEEDS_ATTENTION, reason, None)
        self.ledger.record(
            fix=FixChange(
                fix.id, {"status": "rolled_back", "settled": True, "reason": reason or fix.reason}
            ),
            audit=Audit(
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
            ),
            notes=[
                about_fix(
                    "rolled_back",
                    fix,
                    None,
                    fix=fix.id[:8],
                    to_version=fix.to_version,
                    new_version=version.number,
                    reason=reason or actor,
                )
            ],
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
