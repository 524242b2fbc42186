"""Verification: a fix is kept only if its re-run succeeds and, in the next executions,
the failure it was made for comes back no more often than before it (the verdict itself
is `judge.judge`, a pure function); else it is rolled back."""

from __future__ import annotations

import logging
from typing import Any

from kyra.engine.error_context import ErrorContext
from kyra.engine.states import WorkflowState
from kyra.errors import ConflictError
from kyra.healing.diagnosis.engine import Diagnoser
from kyra.healing.judge import judge
from kyra.healing.ledger import Audit, FixChange, Ledger, about_fix
from kyra.healing.messages import MESSAGES
from kyra.healing.outcome import HealOutcome, short_error
from kyra.healing.rollback import Rollbacks
from kyra.i18n import translate
from kyra.store import executions as exec_store
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.healing import FixInfo
from kyra.store.tenants import get_tenant_by_id

log = logging.getLogger("kyra.healing")


class Verifier:
    """Judges fixes by their re-run and the executions after it.

    Parameters:
        ledger: where verdicts are written.
        rollbacks: undoes a fix that made things worse.
        diagnoser: classifies stored failures (rules tier only: no LLM spend to judge).
        watch_executions: how many executions after a fix (and before it) are compared.
    """

    def __init__(
        self, ledger: Ledger, rollbacks: Rollbacks, diagnoser: Diagnoser, watch_executions: int
    ) -> None:
        self.ledger = ledger
        self.store = ledger.store
        self.rollbacks = rollbacks
        self.diagnoser = diagnoser
        self.watch_executions = watch_executions

    def verified(self, fix: FixInfo) -> HealOutcome:
        """The fix's re-run succeeded: the fix is kept and the workflow is active again."""
        record = wf_store.get_workflow_by_id(self.store, fix.workflow_id)
        if record.state == WorkflowState.FIXING:
            self.ledger.move(
                record, WorkflowState.FIXED, f"fix {fix.id[:8]} verified", fix.rerun_execution_id
            )
            self.ledger.move(
                record,
                WorkflowState.ACTIVE,
                "running normally after the fix",
                fix.rerun_execution_id,
                expect=WorkflowState.FIXED,
            )
        self.ledger.record(
            fix=FixChange(fix.id, {"outcome": "succeeded", "verified_at": self.ledger.now()}),
            audit=Audit(
                kind="verified",
                tenant_id=fix.tenant_id,
                workflow_id=fix.workflow_id,
                fix_id=fix.id,
                execution_id=fix.rerun_execution_id,
                summary=f"re-run {str(fix.rerun_execution_id)[:8]} succeeded",
            ),
            notes=[about_fix("verified", fix, fix.rerun_execution_id, fix=fix.id[:8])],
        )
        return HealOutcome("verified", fix.workflow_id, fix.id)

    def failed(self, fix: FixInfo, ctx: ErrorContext) -> None:
        """The fix's re-run failed: the fix is marked failed (healing goes on)."""
        error = short_error(ctx)
        self.ledger.record(
            fix=FixChange(
                fix.id,
                {
                    "status": "failed",
                    "outcome": "failed",
                    "reason": f"{fix.reason} — re-run failed: {error}",
                },
            ),
            audit=Audit(
                kind="fix_failed",
                tenant_id=fix.tenant_id,
                workflow_id=fix.workflow_id,
                fix_id=fix.id,
                execution_id=ctx.execution_id,
                summary=error,
            ),
            notes=[about_fix("fix_failed", fix, ctx.execution_id, error=error)],
        )

    def watch(self, workflow_id: str) -> HealOutcome | None:
        """After N executions under a verified fix, keep it, or roll it back if the
        failure rate got worse than before the fix."""
        fix = heal_store.watched_fix(self.store, workflow_id)
        if fix is None or fix.rerun_execution_id is None or fix.execution_id is None:
            return None
        n = self.watch_executions
        verdict = judge(
            step=fix.step_name,
            error_class=fix.error_class,
            after=exec_store.outcomes_after(self.store, workflow_id, fix.rerun_execution_id, n),
            before=exec_store.outcomes_before(self.store, workflow_id, fix.execution_id, n),
            window=n,
            classify=self.classify,
        )
        if verdict.rollback:
            tenant = get_tenant_by_id(self.store, fix.tenant_id)
            reason = translate(
                MESSAGES,
                "worse_after_fix",
                tenant.lang_code,
                after=verdict.after_rate,
                before=verdict.before_rate,
            )
            try:
                self.rollbacks.rollback(fix.id, actor="kyra", reason=reason, automatic=True)
            except ConflictError as exc:  # later changes sit on top: a person decides
                self.ledger.record(
                    fix=FixChange(fix.id, {"settled": True}),
                    audit=Audit(
                        kind="rollback_skipped",
                        tenant_id=fix.tenant_id,
                        workflow_id=workflow_id,
                        fix_id=fix.id,
                        summary=f"{reason}; {exc}",
                    ),
                )
                return None
            return HealOutcome("rolled_back", workflow_id, fix.id, message=reason)
        if verdict.settled:
            self.ledger.record(fix=FixChange(fix.id, {"settled": True}))
        return None

    def classify(self, error_context: dict[str, Any]) -> str | None:
        """The rules tier's error class for a stored failure (no LLM spend to judge)."""
        try:
            ctx = ErrorContext.model_validate(error_context)
            return self.diagnoser.diagnose(ctx).error_class.value
        except Exception:  # an unreadable context is not the fixed failure
            log.warning("could not classify a failure while verifying a fix", exc_info=True)
            return None
