"""Act: carry out what `decide` chose (apply, propose, block or ask for attention), each
arrow written through the ledger."""

from __future__ import annotations

from datetime import timedelta

from kyra.engine import reruns
from kyra.engine.error_context import ErrorContext
from kyra.engine.states import WorkflowState
from kyra.errors import ConflictError
from kyra.healing import gate
from kyra.healing.candidates import with_asked
from kyra.healing.decide import Apply, Blocked, Decision, Propose
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.explain import remedy_l10n
from kyra.healing.ledger import Audit, FixChange, Ledger, about_run, new_fix
from kyra.healing.messages import MANUAL_STEP_TEXT, MESSAGES
from kyra.healing.outcome import HealOutcome, human_delay
from kyra.healing.patches import apply_to, diff, patch_json
from kyra.healing.remedies import RemedyPlan
from kyra.healing.taxonomy import MANUAL_STEPS
from kyra.i18n import translate
from kyra.store import workflows as wf_store
from kyra.store.tenants import TenantInfo
from kyra.store.workflows import WorkflowRecord


class Actions:
    """Carries out a `Decision` for one failed run (see the module docstring)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.store = ledger.store

    def act(
        self,
        decision: Decision,
        record: WorkflowRecord,
        ctx: ErrorContext,
        diagnosis: Diagnosis,
        tenant: TenantInfo,
    ) -> HealOutcome:
        if isinstance(decision, Apply):
            return self.apply(record, ctx, diagnosis, tenant, decision.remedy)
        if isinstance(decision, Propose):
            return self.propose(record, ctx, diagnosis, tenant, decision.remedy)
        if isinstance(decision, Blocked):
            return self.block(record, ctx, diagnosis, tenant, decision)
        if decision.record_failed is not None:  # counts against the anti-loop limits
            fix = new_fix(
                record,
                ctx,
                diagnosis,
                status="failed",
                reason=decision.record_failed,
                now=self.ledger.now(),
            )
            self.ledger.record(fix=fix)
        return self.attention(record, ctx, diagnosis, tenant, decision.reason)

    def block(
        self,
        record: WorkflowRecord,
        ctx: ErrorContext,
        diagnosis: Diagnosis,
        tenant: TenantInfo,
        decision: Blocked,
    ) -> HealOutcome:
        """A safe change the gate refuses: kept as a blocked fix (`kyra fixes retry`)."""
        fix = new_fix(
            record,
            ctx,
            diagnosis,
            status="blocked",
            reason=decision.gate.reason,
            remedy=decision.remedy,
            now=self.ledger.now(),
        )
        self.ledger.record(
            fix=fix,
            notes=[
                about_run(
                    "blocked",
                    record,
                    ctx,
                    fix.id,
                    limit=decision.gate.limit,
                    reason=decision.gate.reason,
                    gate=f"blocked:{decision.gate.limit}",
                )
            ],
        )
        reason = gate.reason_in(decision.gate, tenant.lang_code)
        return self.attention(record, ctx, diagnosis, tenant, reason, fix.id, action="blocked")

    def apply(
        self,
        record: WorkflowRecord,
        ctx: ErrorContext,
        diagnosis: Diagnosis,
        tenant: TenantInfo,
        remedy: RemedyPlan,
    ) -> HealOutcome:
        """A new config version from the remedy, then a re-run of the failed step."""
        new_config = apply_to(remedy.patch, record.workflow)
        changes = diff(record.workflow.config, new_config)
        fix = new_fix(
            record,
            ctx,
            diagnosis,
            status="applied",
            reason=remedy.summary(),
            remedy=remedy,
            changes=changes,
            outcome="pending",
            now=self.ledger.now(),
        )
        self.ledger.record(fix=fix)
        try:
            version = wf_store.add_config_version(
                self.store,
                record.id,
                new_config,
                author="kyra",
                reason=f"fix {fix.id[:8]}: {remedy.summary()}",
                fix_id=fix.id,
                expected_version=record.config_version,
            )
        except ConflictError as exc:
            changed = {"status": "failed", "outcome": "failed", "reason": str(exc)}
            self.ledger.record(fix=FixChange(fix.id, changed))
            return self.attention(record, ctx, diagnosis, tenant, str(exc), fix.id)
        at = self.ledger.now() + timedelta(seconds=remedy.rerun_delay)
        rerun_id = reruns.schedule_rerun(self.store, ctx.execution_id, at, trigger="heal")
        self.ledger.record(
            fix=FixChange(
                fix.id,
                {
                    "from_version": record.config_version,
                    "to_version": version.number,
                    "rerun_execution_id": rerun_id,
                    "rerun_at": at,
                },
            ),
            audit=Audit(
                kind="fix_applied",
                tenant_id=tenant.id,
                workflow_id=record.id,
                fix_id=fix.id,
                execution_id=ctx.execution_id,
                summary=remedy.summary(),
                details={
                    "diff": changes,
                    "patch": patch_json(remedy.patch),
                    "rerun_execution_id": rerun_id,
                },
            ),
            notes=[
                about_run(
                    "fix_applied",
                    record,
                    ctx,
                    fix.id,
                    from_version=record.config_version,
                    to_version=version.number,
                    summary=remedy.summary(tenant.lang_code),
                    l10n={"summary": remedy_l10n(remedy.key, remedy.values)},
                    gate="allowed:automatic",
                ),
                about_run(
                    "rerun_scheduled",
                    record,
                    ctx,
                    fix.id,
                    step=ctx.step_name,
                    delay=human_delay(remedy.rerun_delay),
                ),
            ],
        )
        summary = remedy.summary(tenant.lang_code)
        return HealOutcome("rerun", record.id, fix.id, rerun_id, diagnosis, summary)

    def propose(
        self,
        record: WorkflowRecord,
        ctx: ErrorContext,
        diagnosis: Diagnosis,
        tenant: TenantInfo,
        remedy: RemedyPlan,
    ) -> HealOutcome:
        """A proposal a person approves or rejects; the workflow waits for them."""
        preview = apply_to(remedy.patch, record.workflow)
        fix = new_fix(
            record,
            ctx,
            diagnosis,
            status="proposed",
            reason=remedy.summary(),
            remedy=remedy,
            changes=with_asked(patch_json(remedy.patch), diff(record.workflow.config, preview)),
            now=self.ledger.now(),
        )
        self.ledger.record(
            fix=fix,
            audit=Audit(
                kind="fix_proposed",
                tenant_id=tenant.id,
                workflow_id=record.id,
                fix_id=fix.id,
                execution_id=ctx.execution_id,
                summary=remedy.summary(),
                details={
                    "patch": patch_json(remedy.patch),
                    "suggestions": remedy.suggestions,
                    "candidates": remedy.candidates,
                },
            ),
            notes=[
                about_run(
                    "proposed",
                    record,
                    ctx,
                    fix.id,
                    fix=fix.id[:8],
                    summary=remedy.summary(tenant.lang_code),
                    l10n={"summary": remedy_l10n(remedy.key, remedy.values)},
                    gate="allowed:approval",
                )
            ],
        )
        reason = translate(MESSAGES, "waiting_approval", tenant.lang_code, fix=fix.id[:8])
        self.ledger.move(record, WorkflowState.NEEDS_ATTENTION, reason, ctx.execution_id)
        return HealOutcome("proposed", record.id, fix.id, diagnosis=diagnosis, message=reason)

    def attention(
        self,
        record: WorkflowRecord,
        ctx: ErrorContext,
        diagnosis: Diagnosis,
        tenant: TenantInfo,
        reason: str,
        fix_id: str | None = None,
        *,
        action: str = "needs_attention",
    ) -> HealOutcome:
        """A person acts: the workflow waits in `needs_attention`, told why and what to do."""
        steps = [
            translate(MANUAL_STEP_TEXT, step.value, tenant.lang_code)
            for step in diagnosis.fix_steps
            if step in MANUAL_STEPS
        ]
        full = reason
        if steps:
            full += " " + translate(
                MESSAGES, "manual_steps", tenant.lang_code, steps="; ".join(steps)
            )
        self.ledger.move(record, WorkflowState.NEEDS_ATTENTION, full, ctx.execution_id)
        self.ledger.record(
            audit=Audit(
                kind="needs_attention",
                tenant_id=tenant.id,
                workflow_id=record.id,
                fix_id=fix_id,
                execution_id=ctx.execution_id,
                summary=full,
                details={
                    "error_class": diagnosis.error_class.value,
                    "safety": diagnosis.safety.value,
                },
            ),
            notes=[about_run("needs_attention", record, ctx, fix_id, reason=full)],
        )
        return HealOutcome(action, record.id, fix_id, diagnosis=diagnosis, message=full)
