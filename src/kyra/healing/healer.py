"""The healing loop: failed run → diagnosis → gate → remedy → new config version →
re-run → verification → fixed/active, or needs_attention with what to do.

`Healer.after_run` is called with every finished run (by `kyra run`, the embedded worker
or a Celery task). Every arrow is recorded (fix row, audit record, state transition) and
announced (`HealEvent`). A crash here never loses the failed execution: it is already
stored, and a retried call finds the fix it created and does not create another.
"""

from __future__ import annotations

import logging

from kyra.engine.error_context import ErrorContext
from kyra.engine.events import RunResult
from kyra.engine.states import WorkflowState
from kyra.errors import ConflictError, HealingError
from kyra.healing import attention, gate, learning
from kyra.healing._base import (
    NONE,
    HealerBase,
    HealOutcome,
    _human_delay,
    _patch_json,
    _short_error,
    _step_names,
)
from kyra.healing.candidates import with_asked
from kyra.healing.decide import Apply, Blocked, Decision, Propose, decide, is_automatic
from kyra.healing.decisions import DecisionsMixin
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.explain import remedy_l10n
from kyra.healing.messages import MANUAL_STEP_TEXT, MESSAGES
from kyra.healing.patches import diff
from kyra.healing.reasons import dumps
from kyra.healing.recovery import announce_recovery, record_crash
from kyra.healing.remedies import RemedyFailed, RemedyPlan, plan_remedy
from kyra.healing.rules import rules_for_tenant
from kyra.healing.taxonomy import MANUAL_STEPS, Safety
from kyra.healing.verification import VerificationMixin
from kyra.i18n import translate
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.tenants import TenantInfo, get_tenant_by_id
from kyra.store.workflows import WorkflowRecord

log = logging.getLogger("kyra.healing")

__all__ = ["NONE", "HealOutcome", "Healer"]


class Healer(DecisionsMixin, VerificationMixin, HealerBase):
    """Drives the healing loop over a Kyra app (see the module docstring)."""

    # -- entry point ----------------------------------------------------------------------

    def after_run(self, result: RunResult) -> HealOutcome:
        """React to a finished run: verify a fix, watch for rollback, or heal a failure."""
        verifying = heal_store.fix_for_rerun(self.store, result.execution_id)
        if result.succeeded:
            if verifying is not None:
                return self._verified(verifying)
            announce_recovery(self, result)
            return self._watch(result.workflow_id) or NONE
        if result.error_context is None:
            return NONE
        if verifying is not None:
            if verifying.status in ("applied", "approved") and verifying.outcome == "pending":
                self._fix_failed(verifying, result.error_context)
            elif verifying.outcome != "pending":  # a retried call: the fix was handled
                return NONE
        rolled = self._watch(result.workflow_id)
        if rolled is not None:
            return rolled
        try:
            return self._heal(result.error_context, escalating=verifying is not None)
        except Exception as exc:
            # The failed execution is already stored; put the workflow back to `failed` so
            # a retried healing job (runtime backoff) can pick the incident up again.
            record_crash(self, result, exc)
            raise HealingError(f"healing {result.workflow_name!r} crashed: {exc}") from exc

    # -- healing a failure ----------------------------------------------------------------

    def _heal(self, ctx: ErrorContext, *, escalating: bool) -> HealOutcome:
        record = wf_store.get_workflow_by_id(self.store, ctx.workflow_id or "")
        tenant = get_tenant_by_id(self.store, record.tenant_id)
        refused = self._admit(record, tenant, ctx, escalating)
        if refused is not None:
            return refused
        self._event("failure_detected", record, ctx, error=_short_error(ctx))
        diagnosis = self._diagnose(ctx, tenant)
        self._event(
            "diagnosed",
            record,
            ctx,
            error_class=diagnosis.error_class.value,
            safety=diagnosis.safety.value,
            confidence=diagnosis.confidence,
            tier=diagnosis.tier.value,
            explanation=diagnosis.explanation,
            l10n={"explanation": dumps(diagnosis.reasons)},
        )
        settings = self.settings
        rule = rules_for_tenant(self.store, tenant, settings).decide(
            ctx, diagnosis, settings, tenant.lang_code
        )
        if rule is not None:
            diagnosis, settings = rule.diagnosis, rule.settings
            self._audit(
                kind="rule_applied",
                tenant_id=tenant.id,
                workflow_id=record.id,
                execution_id=ctx.execution_id,
                summary=rule.summary(),
                details=rule.to_json(),
            )
        remedy: RemedyPlan | RemedyFailed | None = None
        verdict: gate.GateDecision | None = None
        if diagnosis.safety is not Safety.RED:
            remedy = plan_remedy(
                diagnosis,
                ctx,
                record,
                settings,
                self._history(record),
                upstream_recovered=self._upstream_recovered(diagnosis, ctx),
            )
            if rule is not None:
                remedy = rule.constrain(remedy)
            if isinstance(remedy, RemedyPlan):  # cross-workflow learning: confidence only
                diagnosis = learning.consult(
                    self.store, tenant.id, ctx, diagnosis, remedy.key, self._now(), tenant.lang_code
                )
            automatic = is_automatic(diagnosis, self.settings)
            request = gate.GateRequest(
                tenant_id=tenant.id,
                tier=tenant.tier,
                workflow_id=record.id,
                error_class=diagnosis.error_class.value,
                safety="GREEN" if automatic else "YELLOW",
                confidence=diagnosis.confidence,
                automatic=automatic,
            )
            verdict = gate.check(self.store, self.settings, request, self._now())
        return self._act(
            decide(diagnosis, remedy, verdict, self.settings, tenant.lang_code),
            record,
            ctx,
            diagnosis,
            tenant,
        )

    def _act(
        self,
        decision: Decision,
        record: WorkflowRecord,
        ctx: ErrorContext,
        diagnosis: Diagnosis,
        tenant: TenantInfo,
    ) -> HealOutcome:
        """Carry out what `decide` chose."""
        if isinstance(decision, Apply):
            return self._apply(record, ctx, diagnosis, tenant, decision.remedy)
        if isinstance(decision, Propose):
            return self._propose(record, ctx, diagnosis, tenant, decision.remedy)
        if isinstance(decision, Blocked):
            fix_id = self._new_fix(
                record,
                ctx,
                diagnosis,
                status="blocked",
                reason=decision.gate.reason,
                remedy=decision.remedy,
            )
            self._event(
                "blocked",
                record,
                ctx,
                fix_id=fix_id,
                limit=decision.gate.limit,
                reason=decision.gate.reason,
                gate=f"blocked:{decision.gate.limit}",
            )
            reason = gate.reason_in(decision.gate, tenant.lang_code)
            return self._attention(record, ctx, diagnosis, tenant, reason, fix_id, action="blocked")
        if decision.record_failed is not None:
            self._new_fix(record, ctx, diagnosis, status="failed", reason=decision.record_failed)
        return self._attention(record, ctx, diagnosis, tenant, decision.reason)

    def _admit(
        self, record: WorkflowRecord, tenant: TenantInfo, ctx: ErrorContext, escalating: bool
    ) -> HealOutcome | None:
        """None when this failure is healed now; else why not (`kyra run` says it)."""
        lang = self._say_lang(tenant)
        if not self.settings.enabled:
            return HealOutcome(
                "skipped", record.id, message=translate(MESSAGES, "skip_disabled", lang)
            )
        if record.state == WorkflowState.FAILED:
            if not self._move(record, WorkflowState.FIXING, "diagnosing", ctx.execution_id):
                return HealOutcome("skipped", record.id, message="another healer holds it")
        elif record.state == WorkflowState.NEEDS_ATTENTION and not escalating:
            return attention.on_failure(self, record, ctx, tenant)
        elif not (escalating and record.state == WorkflowState.FIXING):
            message = translate(MESSAGES, "skip_state", lang, state=record.state)
            return HealOutcome("skipped", record.id, message=message)
        return None

    def _diagnose(self, ctx: ErrorContext, tenant: TenantInfo) -> Diagnosis:
        limits = self.settings.tier(tenant.tier)
        _, spent = heal_store.month_usage(self.store, tenant.id, gate.month_start(self._now()))
        budget = max(0.0, min(limits.max_cost - spent, self.settings.max_cost_per_fix))
        secrets = tuple(self.kyra.secrets_of(tenant.id).values()) if self.llm else ()
        diagnosis = self.diagnoser.diagnose(
            ctx, lang=tenant.lang_code, llm=self.llm, budget=budget, secrets=secrets
        )
        self._audit(
            kind="diagnosis",
            tenant_id=tenant.id,
            workflow_id=ctx.workflow_id,
            execution_id=ctx.execution_id,
            summary=f"{diagnosis.error_class.value} ({diagnosis.safety.value}, "
            f"{diagnosis.confidence}%, {diagnosis.tier.value})",
            details=diagnosis.to_output(),
            cost=diagnosis.estimated_cost,
        )
        return diagnosis

    def _apply(
        self,
        record: WorkflowRecord,
        ctx: ErrorContext,
        diagnosis: Diagnosis,
        tenant: TenantInfo,
        remedy: RemedyPlan,
    ) -> HealOutcome:
        new_config = remedy.patch.apply(record.workflow.config, _step_names(record))
        changes = diff(record.workflow.config, new_config)
        fix_id = self._new_fix(
            record,
            ctx,
            diagnosis,
            status="applied",
            reason=remedy.summary(),
            remedy=remedy,
            changes=changes,
            outcome="pending",
        )
        try:
            version = wf_store.add_config_version(
                self.store,
                record.id,
                new_config,
                author="kyra",
                reason=f"fix {fix_id[:8]}: {remedy.summary()}",
                fix_id=fix_id,
                expected_version=record.config_version,
            )
        except ConflictError as exc:
            heal_store.update_fix(
                self.store, fix_id, status="failed", outcome="failed", reason=str(exc)
            )
            return self._attention(record, ctx, diagnosis, tenant, str(exc), fix_id)
        rerun_id, at = self._schedule_rerun(record, ctx, remedy.rerun_delay)
        heal_store.update_fix(
            self.store,
            fix_id,
            from_version=record.config_version,
            to_version=version.number,
            rerun_execution_id=rerun_id,
            rerun_at=at,
        )
        self._audit(
            kind="fix_applied",
            tenant_id=tenant.id,
            workflow_id=record.id,
            fix_id=fix_id,
            execution_id=ctx.execution_id,
            summary=remedy.summary(),
            details={
                "diff": changes,
                "patch": _patch_json(remedy.patch),
                "rerun_execution_id": rerun_id,
            },
        )
        self._event(
            "fix_applied",
            record,
            ctx,
            fix_id=fix_id,
            from_version=record.config_version,
            to_version=version.number,
            summary=remedy.summary(tenant.lang_code),
            l10n={"summary": remedy_l10n(remedy.key, remedy.values)},
            gate="allowed:automatic",
        )
        self._event(
            "rerun_scheduled",
            record,
            ctx,
            fix_id=fix_id,
            step=ctx.step_name,
            delay=_human_delay(remedy.rerun_delay),
        )
        return HealOutcome(
            "rerun", record.id, fix_id, rerun_id, diagnosis, remedy.summary(tenant.lang_code)
        )

    def _propose(
        self,
        record: WorkflowRecord,
        ctx: ErrorContext,
        diagnosis: Diagnosis,
        tenant: TenantInfo,
        remedy: RemedyPlan,
    ) -> HealOutcome:
        preview = remedy.patch.apply(record.workflow.config, _step_names(record))
        fix_id = self._new_fix(
            record,
            ctx,
            diagnosis,
            status="proposed",
            reason=remedy.summary(),
            remedy=remedy,
            changes=with_asked(_patch_json(remedy.patch), diff(record.workflow.config, preview)),
        )
        self._audit(
            kind="fix_proposed",
            tenant_id=tenant.id,
            workflow_id=record.id,
            fix_id=fix_id,
            execution_id=ctx.execution_id,
            summary=remedy.summary(),
            details={
                "patch": _patch_json(remedy.patch),
                "suggestions": remedy.suggestions,
                "candidates": remedy.candidates,
            },
        )
        self._event(
            "proposed",
            record,
            ctx,
            fix_id=fix_id,
            fix=fix_id[:8],
            summary=remedy.summary(tenant.lang_code),
            l10n={"summary": remedy_l10n(remedy.key, remedy.values)},
            gate="allowed:approval",
        )
        reason = translate(MESSAGES, "waiting_approval", tenant.lang_code, fix=fix_id[:8])
        self._move(record, WorkflowState.NEEDS_ATTENTION, reason, ctx.execution_id)
        return HealOutcome("proposed", record.id, fix_id, diagnosis=diagnosis, message=reason)

    def _attention(
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
        self._move(record, WorkflowState.NEEDS_ATTENTION, full, ctx.execution_id)
        self._audit(
            kind="needs_attention",
            tenant_id=tenant.id,
            workflow_id=record.id,
            fix_id=fix_id,
            execution_id=ctx.execution_id,
            summary=full,
            details={"error_class": diagnosis.error_class.value, "safety": diagnosis.safety.value},
        )
        self._event(
            "needs_attention", record, ctx, fix_id=fix_id, workflow=record.name, reason=full
        )
        return HealOutcome(action, record.id, fix_id, diagnosis=diagnosis, message=full)
