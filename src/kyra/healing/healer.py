"""The healing loop: failed run → diagnosis → gate → remedy → new config version →
re-run → verification → fixed/active, or needs_attention with what to do.

`Healer.after_run` is called with every finished run (by `kyra run`, the embedded worker
or a Celery task). Every arrow is recorded (fix row, audit record, state transition) and
announced (`HealEvent`). A crash here never loses the failed execution: it is already
stored, and a retried call finds the fix it created and does not create another.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from kyra.app import Kyra
from kyra.engine.error_context import ErrorContext
from kyra.engine.events import RunResult
from kyra.engine.states import WorkflowState, sources_of
from kyra.errors import ConflictError, HealingError, IllegalTransitionError
from kyra.healing import gate
from kyra.healing.diagnosis.engine import Diagnoser, default_diagnoser
from kyra.healing.diagnosis.llm import LLMSettings
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.events import HealEvent, HealListener, emit
from kyra.healing.messages import MANUAL_STEP_TEXT, MESSAGES
from kyra.healing.patches import ConfigPatch, diff
from kyra.healing.remedies import RemedyFailed, RemedyPlan, plan_remedy
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import MANUAL_STEPS, Safety
from kyra.i18n import translate
from kyra.store import executions as exec_store
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.healing import FixInfo
from kyra.store.tenants import TenantInfo, get_tenant_by_id
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import RerunFrom, WorkflowConfig

log = logging.getLogger("kyra.healing")


@dataclass(frozen=True)
class HealOutcome:
    """What healing did with one finished run."""

    action: str
    """none | skipped | rerun | proposed | needs_attention | blocked | verified | rolled_back"""
    workflow_id: str | None = None
    fix_id: str | None = None
    rerun_execution_id: str | None = None
    diagnosis: Diagnosis | None = None
    message: str = ""


NONE = HealOutcome("none")


class Healer:
    """Drives one tenant-agnostic healing loop over a Kyra app."""

    def __init__(
        self,
        kyra: Kyra,
        *,
        settings: HealingSettings | None = None,
        diagnoser: Diagnoser | None = None,
        llm: LLMSettings | None = None,
        listeners: list[HealListener] | None = None,
    ) -> None:
        self.kyra = kyra
        self.store = kyra.store
        self.settings = settings or HealingSettings()
        self.diagnoser = diagnoser or default_diagnoser()
        self.llm = llm
        self.listeners = list(listeners or [])

    # -- entry point ----------------------------------------------------------------------

    def after_run(self, result: RunResult) -> HealOutcome:
        """React to a finished run: verify a fix, watch for rollback, or heal a failure."""
        verifying = heal_store.fix_for_rerun(self.store, result.execution_id)
        if result.succeeded:
            if verifying is not None:
                return self._verified(verifying)
            rolled = self._watch(result.workflow_id)
            return rolled or NONE
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
            self._crashed(result, exc)
            raise HealingError(f"healing {result.workflow_name!r} crashed: {exc}") from exc

    # -- healing a failure ----------------------------------------------------------------

    def _heal(self, ctx: ErrorContext, *, escalating: bool) -> HealOutcome:
        record = wf_store.get_workflow_by_id(self.store, ctx.workflow_id or "")
        tenant = get_tenant_by_id(self.store, record.tenant_id)
        if not self.settings.enabled:
            return HealOutcome("skipped", record.id, message="healing disabled")
        if record.state == WorkflowState.FAILED:
            if not self._move(record, WorkflowState.FIXING, "diagnosing", ctx.execution_id):
                return HealOutcome("skipped", record.id, message="another healer holds it")
        elif not (escalating and record.state == WorkflowState.FIXING):
            return HealOutcome("skipped", record.id, message=f"workflow is {record.state}")
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
        )
        if diagnosis.safety is Safety.RED:
            return self._attention(record, ctx, diagnosis, tenant, diagnosis.explanation)
        remedy = plan_remedy(diagnosis, ctx, record, self.settings, self._history(record))
        automatic = (
            diagnosis.safety is Safety.GREEN
            and diagnosis.auto_reparable
            and diagnosis.confidence >= self.settings.confidence_threshold
        )
        request = gate.GateRequest(
            tenant_id=tenant.id,
            tier=tenant.tier,
            workflow_id=record.id,
            error_class=diagnosis.error_class.value,
            safety="GREEN" if automatic else "YELLOW",
            confidence=diagnosis.confidence,
            automatic=automatic,
        )
        decision = gate.check(self.store, self.settings, request, self._now())
        if isinstance(remedy, RemedyFailed):
            reason = translate(
                MESSAGES, "no_remedy", tenant.lang_code, reason=remedy.reason(tenant.lang_code)
            )
            if automatic and decision.allowed:
                self._new_fix(record, ctx, diagnosis, status="failed", reason=remedy.reason())
            return self._attention(record, ctx, diagnosis, tenant, reason)
        if not decision.allowed:
            fix_id = self._new_fix(
                record, ctx, diagnosis, status="blocked", reason=decision.reason, remedy=remedy
            )
            self._event(
                "blocked", record, ctx, fix_id=fix_id, limit=decision.limit, reason=decision.reason
            )
            return self._attention(
                record, ctx, diagnosis, tenant, decision.reason, fix_id, action="blocked"
            )
        if not automatic:
            return self._propose(record, ctx, diagnosis, tenant, remedy)
        return self._apply(record, ctx, diagnosis, tenant, remedy)

    def _diagnose(self, ctx: ErrorContext, tenant: TenantInfo) -> Diagnosis:
        limits = self.settings.tier(tenant.tier)
        _, spent = heal_store.month_usage(self.store, tenant.id, gate.month_start(self._now()))
        budget = max(0.0, min(limits.max_cost - spent, self.settings.max_cost_per_fix))
        secrets = tuple(self.kyra.secrets_of(tenant.id).values()) if self.llm else ()
        diagnosis = self.diagnoser.diagnose(
            ctx, lang=tenant.lang_code, llm=self.llm, budget=budget, secrets=secrets
        )
        heal_store.add_audit(
            self.store,
            kind="diagnosis",
            actor="kyra",
            tenant_id=tenant.id,
            workflow_id=ctx.workflow_id,
            execution_id=ctx.execution_id,
            summary=f"{diagnosis.error_class.value} ({diagnosis.safety.value}, "
            f"{diagnosis.confidence}%, {diagnosis.tier.value})",
            details=diagnosis.to_output(),
            cost=diagnosis.estimated_cost,
            at=self._now(),
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
        if remedy.rerun_delay > self.settings.max_rerun_delay_seconds:
            reason = remedy.summary(tenant.lang_code)
            return self._attention(record, ctx, diagnosis, tenant, reason)
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
        heal_store.add_audit(
            self.store,
            kind="fix_applied",
            actor="kyra",
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
            at=self._now(),
        )
        self._event(
            "fix_applied",
            record,
            ctx,
            fix_id=fix_id,
            from_version=record.config_version,
            to_version=version.number,
            summary=remedy.summary(tenant.lang_code),
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
            changes=diff(record.workflow.config, preview),
        )
        heal_store.add_audit(
            self.store,
            kind="fix_proposed",
            actor="kyra",
            tenant_id=tenant.id,
            workflow_id=record.id,
            fix_id=fix_id,
            execution_id=ctx.execution_id,
            summary=remedy.summary(),
            details={"patch": _patch_json(remedy.patch), "suggestions": remedy.suggestions},
            at=self._now(),
        )
        self._event(
            "proposed",
            record,
            ctx,
            fix_id=fix_id,
            fix=fix_id[:8],
            summary=remedy.summary(tenant.lang_code),
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
        heal_store.add_audit(
            self.store,
            kind="needs_attention",
            actor="kyra",
            tenant_id=tenant.id,
            workflow_id=record.id,
            fix_id=fix_id,
            execution_id=ctx.execution_id,
            summary=full,
            details={"error_class": diagnosis.error_class.value, "safety": diagnosis.safety.value},
            at=self._now(),
        )
        self._event(
            "needs_attention", record, ctx, fix_id=fix_id, workflow=record.name, reason=full
        )
        return HealOutcome(action, record.id, fix_id, diagnosis=diagnosis, message=full)

    def _crashed(self, result: RunResult, exc: Exception) -> None:
        log.exception("healing %s crashed", result.workflow_name)
        try:
            record = wf_store.get_workflow_by_id(self.store, result.workflow_id)
            if record.state == WorkflowState.FIXING:
                self._move(record, WorkflowState.FAILED, f"healing crashed: {exc}"[:300],
                           result.execution_id)
            heal_store.add_audit(
                self.store, kind="healing_crashed", actor="kyra", tenant_id=record.tenant_id,
                workflow_id=record.id, execution_id=result.execution_id,
                summary=f"{type(exc).__name__}: {exc}"[:300], at=self._now(),
            )
        except Exception:
            log.exception("could not record the healing crash of %s", result.workflow_name)

    # -- verification and rollback --------------------------------------------------------

    def _verified(self, fix: FixInfo) -> HealOutcome:
        now = self._now()
        heal_store.update_fix(self.store, fix.id, outcome="succeeded", verified_at=now)
        record = wf_store.get_workflow_by_id(self.store, fix.workflow_id)
        if record.state == WorkflowState.FIXING:
            self._move(
                record, WorkflowState.FIXED, f"fix {fix.id[:8]} verified", fix.rerun_execution_id
            )
            self._move(
                record,
                WorkflowState.ACTIVE,
                "running normally after the fix",
                fix.rerun_execution_id,
                expect=WorkflowState.FIXED,
            )
        heal_store.add_audit(
            self.store,
            kind="verified",
            actor="kyra",
            tenant_id=fix.tenant_id,
            workflow_id=fix.workflow_id,
            fix_id=fix.id,
            execution_id=fix.rerun_execution_id,
            summary=f"re-run {str(fix.rerun_execution_id)[:8]} succeeded",
            at=now,
        )
        self._event_raw(
            "verified",
            fix.tenant_id,
            fix.workflow_id,
            fix.workflow_name,
            fix.rerun_execution_id,
            fix.id,
            fix.execution_id,
            workflow=fix.workflow_name,
            fix=fix.id[:8],
        )
        return HealOutcome("verified", fix.workflow_id, fix.id)

    def _fix_failed(self, fix: FixInfo, ctx: ErrorContext) -> None:
        heal_store.update_fix(
            self.store,
            fix.id,
            status="failed",
            outcome="failed",
            reason=f"{fix.reason} — re-run failed: {_short_error(ctx)}",
        )
        heal_store.add_audit(
            self.store,
            kind="fix_failed",
            actor="kyra",
            tenant_id=fix.tenant_id,
            workflow_id=fix.workflow_id,
            fix_id=fix.id,
            execution_id=ctx.execution_id,
            summary=_short_error(ctx),
            at=self._now(),
        )
        self._event_raw(
            "fix_failed",
            fix.tenant_id,
            fix.workflow_id,
            fix.workflow_name,
            ctx.execution_id,
            fix.id,
            fix.execution_id,
            error=_short_error(ctx),
        )

    def _watch(self, workflow_id: str) -> HealOutcome | None:
        """After N executions under a verified fix, keep it, or roll it back if the
        failure rate got worse than before the fix."""
        fix = heal_store.watched_fix(self.store, workflow_id)
        if fix is None or fix.rerun_execution_id is None or fix.execution_id is None:
            return None
        n = self.settings.watch_executions
        after = exec_store.outcomes_after(self.store, workflow_id, fix.rerun_execution_id, n)
        before = exec_store.outcomes_before(self.store, workflow_id, fix.execution_id, n)
        before_rate = before.count("failed") / len(before) if before else 0.0
        failed_after = after.count("failed")
        if failed_after > before_rate * n:
            after_rate = failed_after / max(len(after), 1)
            tenant = get_tenant_by_id(self.store, fix.tenant_id)
            reason = translate(
                MESSAGES, "worse_after_fix", tenant.lang_code, after=after_rate, before=before_rate
            )
            try:
                self.rollback(fix.id, actor="kyra", reason=reason, automatic=True)
            except ConflictError as exc:  # later changes sit on top: a person decides
                heal_store.update_fix(self.store, fix.id, settled=True)
                heal_store.add_audit(
                    self.store, kind="rollback_skipped", actor="kyra", tenant_id=fix.tenant_id,
                    workflow_id=workflow_id, fix_id=fix.id, summary=f"{reason}; {exc}",
                    at=self._now(),
                )
                return None
            return HealOutcome("rolled_back", workflow_id, fix.id, message=reason)
        if len(after) >= n:
            heal_store.update_fix(self.store, fix.id, settled=True)
        return None

    # -- kill switch --------------------------------------------------------------------------

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
        heal_store.add_audit(
            self.store,
            kind="blocked",
            actor="kyra",
            tenant_id=fix.tenant_id,
            workflow_id=fix.workflow_id,
            fix_id=fix.id,
            summary=reason,
            at=self._now(),
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
        version = wf_store.add_config_version(
            self.store,
            record.id,
            new_config,
            author="user",
            reason=f"approved fix {fix.id[:8]}: {fix.reason}",
            fix_id=fix.id,
        )
        ctx = ErrorContext.model_validate(
            exec_store.get_execution(self.store, fix.execution_id or "").error_context or {}
        )
        self._move(record, WorkflowState.FIXING, f"fix {fix.id[:8]} approved", fix.execution_id)
        rerun_id, at = self._schedule_rerun(record, ctx, 0.0)
        heal_store.update_fix(
            self.store,
            fix.id,
            status="approved",
            outcome="pending",
            decided_by=actor,
            decided_at=self._now(),
            from_version=record.config_version,
            to_version=version.number,
            patch=_patch_json(patch),
            diff={"changes": diff(record.workflow.config, new_config)},
            rerun_execution_id=rerun_id,
            rerun_at=at,
        )
        heal_store.add_audit(
            self.store,
            kind="approved",
            actor=actor,
            tenant_id=tenant.id,
            workflow_id=record.id,
            fix_id=fix.id,
            summary=f"approved: {fix.reason}",
            details={"diff": diff(record.workflow.config, new_config)},
            at=self._now(),
        )
        self._event_raw(
            "approved",
            tenant.id,
            record.id,
            record.name,
            rerun_id,
            fix.id,
            fix.execution_id,
            fix=fix.id[:8],
            actor=actor,
            from_version=record.config_version,
            to_version=version.number,
        )
        return HealOutcome("rerun", record.id, fix.id, rerun_id)

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
        heal_store.add_audit(
            self.store,
            kind="rejected",
            actor=actor,
            tenant_id=fix.tenant_id,
            workflow_id=fix.workflow_id,
            fix_id=fix.id,
            summary=reason or "rejected",
            at=self._now(),
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
        heal_store.add_audit(
            self.store,
            kind="rollback",
            actor=actor,
            tenant_id=fix.tenant_id,
            workflow_id=record.id,
            fix_id=fix.id,
            summary=reason or "rolled back by hand",
            details={"from_version": fix.to_version, "to_version": version.number},
            at=self._now(),
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

    # -- plumbing ---------------------------------------------------------------------------

    def _now(self) -> Any:
        return self.kyra.clock.now()

    def _history(self, record: WorkflowRecord) -> Any:
        def history(step_name: str) -> list[dict[str, Any]]:
            return exec_store.recent_step_params(self.store, record.id, step_name)

        return history

    def _schedule_rerun(
        self, record: WorkflowRecord, ctx: ErrorContext, delay: float
    ) -> tuple[str, Any]:
        start = 0 if record.workflow.rerun_from is RerunFrom.START else (ctx.step_index or 0)
        at = self._now() + timedelta(seconds=delay)
        rerun_id = exec_store.create_execution(
            self.store,
            tenant_id=record.tenant_id,
            workflow_id=record.id,
            inputs=(ctx.execution_context.get("inputs") or {}),
            trigger="heal",
            resume_of=ctx.execution_id,
            start_step=start,
            run_at=at,
            status="waiting",
        )
        return rerun_id, at

    def _new_fix(
        self,
        record: WorkflowRecord,
        ctx: ErrorContext,
        diagnosis: Diagnosis,
        *,
        status: str,
        reason: str,
        remedy: RemedyPlan | None = None,
        changes: list[dict[str, Any]] | None = None,
        outcome: str = "none",
    ) -> str:
        now = self._now()
        return heal_store.create_fix(
            self.store,
            tenant_id=record.tenant_id,
            workflow_id=record.id,
            execution_id=ctx.execution_id,
            step_name=ctx.step_name,
            error_class=diagnosis.error_class.value,
            safety=diagnosis.safety.value,
            confidence=diagnosis.confidence,
            tier=diagnosis.tier.value,
            status=status,
            reason=reason,
            diagnosis=diagnosis.to_output(),
            patch=_patch_json(remedy.patch) if remedy else {},
            diff={"changes": changes or []},
            outcome=outcome,
            cost=diagnosis.estimated_cost,
            tokens=diagnosis.tokens,
            created_at=now,
            updated_at=now,
        )

    def _move(
        self,
        record: WorkflowRecord,
        target: WorkflowState,
        reason: str,
        execution_id: str | None,
        *,
        expect: WorkflowState | None = None,
    ) -> bool:
        allowed = frozenset({str(expect)}) if expect else sources_of(target)
        try:
            wf_store.transition_state(
                self.store,
                record.id,
                target,
                allowed_from=allowed,
                reason=reason,
                execution_id=execution_id,
            )
        except IllegalTransitionError as exc:
            log.info("workflow %s: %s", record.name, exc)
            return False
        return True

    def _event(
        self,
        kind: str,
        record: WorkflowRecord,
        ctx: ErrorContext,
        fix_id: str | None = None,
        **values: Any,
    ) -> None:
        values.setdefault("workflow", record.name)
        values.setdefault("step", ctx.step_name)
        self._event_raw(
            kind,
            record.tenant_id,
            record.id,
            record.name,
            ctx.execution_id,
            fix_id,
            ctx.execution_id,
            **values,
        )

    def _event_raw(
        self,
        kind: str,
        tenant_id: str,
        workflow_id: str,
        workflow_name: str,
        execution_id: str | None,
        fix_id: str | None,
        incident: str | None,
        **values: Any,
    ) -> None:
        values.setdefault("workflow", workflow_name)
        emit(
            self.listeners,
            HealEvent(
                kind,
                tenant_id,
                workflow_id,
                workflow_name,
                self._now(),
                execution_id,
                fix_id,
                values,
                incident,
            ),
        )


def _step_names(record: WorkflowRecord) -> set[str]:
    return {step.name for step in record.workflow.steps}


def _patch_json(patch: ConfigPatch) -> dict[str, Any]:
    return patch.model_dump(mode="json")


def _patch_with_value(patch: ConfigPatch, value: Any) -> ConfigPatch:
    """A person approving may give another value for a field fix (validated the same)."""
    if value is None:
        return patch
    ops = []
    for op in patch.ops:
        if hasattr(op, "value") and hasattr(op, "field"):
            op = type(op).model_validate({**op.model_dump(), "value": value})
        ops.append(op)
    return ConfigPatch(ops=tuple(ops))


def _short_error(ctx: ErrorContext) -> str:
    status = f"HTTP {ctx.status_code} " if ctx.status_code else ""
    return f"{status}{ctx.error_type or 'error'}: {ctx.error_message}"[:200]


def _human_delay(seconds: float) -> str:
    if seconds < 1:
        return "0 s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"
