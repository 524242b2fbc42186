"""The healing loop: failed run → diagnosis → gate → remedy → new config version →
re-run → verification → fixed/active, or needs_attention with what to do.

`Healer.after_run` is called with every finished run (by `kyra run`, the embedded worker
or a Celery task). A failure flows one way: classify (`diagnose`) → decide (rules, remedy,
learning and gate, then `decide.decide`, a value) → act (`actions.Actions`). Every arrow
is written through the `Ledger` (fix row, audit record and event as one) and the state
moves it makes. A crash here never loses the failed execution: it is already stored, and
a retried call finds the fix it created and does not create another.

The Healer holds its parts, each a plain class with what it needs passed in:

    Ledger      writes fix rows, audit records, events and state moves
    Actions     carries out a decision (apply, propose, block, attention)
    Verifier    keeps a fix whose re-run succeeded, rolls back one that made it worse
    Rollbacks   restores the config from before a fix
    Decisions   people's approvals and rejections, and the kill switch
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from kyra.app import Kyra
from kyra.engine.error_context import ErrorContext
from kyra.engine.events import RunResult
from kyra.engine.states import WorkflowState
from kyra.errors import HealingError
from kyra.healing import attention, gate, learning
from kyra.healing.actions import Actions
from kyra.healing.decide import Decision, decide, is_automatic
from kyra.healing.decisions import Decisions
from kyra.healing.diagnosis.engine import Diagnoser, default_diagnoser
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.events import HealListener
from kyra.healing.ledger import Audit, Ledger, about_run
from kyra.healing.messages import MESSAGES
from kyra.healing.outcome import NONE, HealOutcome, short_error
from kyra.healing.reasons import dumps
from kyra.healing.recovery import announce_recovery, record_crash
from kyra.healing.remedies import RemedyFailed, RemedyPlan, plan_remedy
from kyra.healing.rollback import Rollbacks
from kyra.healing.rules import rules_for_tenant
from kyra.healing.settings import HealingSettings, LLMSettings
from kyra.healing.taxonomy import ErrorClass, Safety
from kyra.healing.verification import Verifier
from kyra.i18n import Lang, translate
from kyra.store import executions as exec_store
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.healing import FixInfo
from kyra.store.tenants import TenantInfo, get_tenant_by_id
from kyra.store.workflows import WorkflowRecord

log = logging.getLogger("kyra.healing")

__all__ = ["NONE", "HealOutcome", "Healer"]


class Healer:
    """Drives the healing loop over a Kyra app (see the module docstring).

    Parameters:
        kyra: the app (store, clock, fleet, tenant secrets).
        settings: healing limits; default the app's.
        diagnoser: turns a failure into a diagnosis; default the rules tier.
        llm: the LLM tier's settings (None: rules only).
        listeners: who hears the events (kept, not copied: `listeners.append` works).
    """

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
        self.settings = settings or kyra.settings.healing
        self.diagnoser = diagnoser or default_diagnoser()
        self.llm = llm
        self.listeners: list[HealListener] = list(listeners or [])
        self.lang: Lang | None = None
        """The language of the person at the terminal (`kyra run`), for what is said to
        them only (why healing was skipped, why a retry is refused); None: the tenant's.
        Stored reasons, audit records and notifications stay in the tenant's language."""
        self.ledger = Ledger(kyra.store, kyra.clock, self.listeners)
        self.actions = Actions(self.ledger)
        self.rollbacks = Rollbacks(self.ledger)
        self.verifier = Verifier(
            self.ledger, self.rollbacks, self.diagnoser, self.settings.watch_executions
        )
        self.decisions = Decisions(self.ledger, self.settings)

    # -- what people and runtimes call -------------------------------------------------------

    def after_run(self, result: RunResult) -> HealOutcome:
        """React to a finished run: verify a fix, watch for rollback, or heal a failure."""
        verifying = heal_store.fix_for_rerun(self.store, result.execution_id)
        if result.succeeded:
            if verifying is not None:
                return self.verifier.verified(verifying)
            announce_recovery(self.ledger, result)
            return self.verifier.watch(result.workflow_id) or NONE
        if result.error_context is None:
            return NONE
        if verifying is not None:
            if verifying.status in ("applied", "approved") and verifying.outcome == "pending":
                self.verifier.failed(verifying, result.error_context)
            elif verifying.outcome != "pending":  # a retried call: the fix was handled
                return NONE
        rolled = self.verifier.watch(result.workflow_id)
        if rolled is not None:
            return rolled
        try:
            return self.heal(result.error_context, escalating=verifying is not None)
        except Exception as exc:
            # The failed execution is already stored; put the workflow back to `failed` so
            # a retried healing job (runtime backoff) can pick the incident up again.
            record_crash(self.ledger, result, exc)
            raise HealingError(f"healing {result.workflow_name!r} crashed: {exc}") from exc

    def approve(
        self, fix_id: str, *, actor: str = "user", value: Any = None, tenant_id: str | None = None
    ) -> HealOutcome:
        """See `Decisions.approve`."""
        return self.decisions.approve(fix_id, actor=actor, value=value, tenant_id=tenant_id)

    def reject(
        self, fix_id: str, *, actor: str = "user", reason: str = "", tenant_id: str | None = None
    ) -> FixInfo:
        return self.decisions.reject(fix_id, actor=actor, reason=reason, tenant_id=tenant_id)

    def rollback(
        self, fix_id: str, *, actor: str = "user", reason: str = "", tenant_id: str | None = None
    ) -> FixInfo:
        """See `Rollbacks.rollback` (by hand: the workflow's state stays as it is)."""
        return self.rollbacks.rollback(fix_id, actor=actor, reason=reason, tenant_id=tenant_id)

    def may_rerun(self, execution_id: str) -> bool:
        return self.decisions.may_rerun(execution_id)

    def stop_all(self, tenant_id: str | None = None) -> list[str]:
        return self.decisions.stop_all(tenant_id)

    def say_lang(self, tenant: TenantInfo) -> Lang:
        """The language of what is said to the caller (not of what is stored)."""
        return self.lang or tenant.lang_code

    # -- healing a failure: classify → decide → act --------------------------------------------

    def heal(self, ctx: ErrorContext, *, escalating: bool = False) -> HealOutcome:
        """Heal one failure (`escalating`: the re-run of a fix failed in turn)."""
        record = wf_store.get_workflow_by_id(self.store, ctx.workflow_id or "")
        tenant = get_tenant_by_id(self.store, record.tenant_id)
        refused = self._admit(record, tenant, ctx, escalating)
        if refused is not None:
            return refused
        self.ledger.announce(about_run("failure_detected", record, ctx, error=short_error(ctx)))
        diagnosis = self.diagnose(ctx, tenant)
        self.ledger.announce(
            about_run(
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
        )
        decision, diagnosis = self._decide(record, tenant, ctx, diagnosis)
        return self.actions.act(decision, record, ctx, diagnosis, tenant)

    def _admit(
        self, record: WorkflowRecord, tenant: TenantInfo, ctx: ErrorContext, escalating: bool
    ) -> HealOutcome | None:
        """None when this failure is healed now; else why not (`kyra run` says it)."""
        lang = self.say_lang(tenant)
        if not self.settings.enabled:
            return HealOutcome(
                "skipped", record.id, message=translate(MESSAGES, "skip_disabled", lang)
            )
        if record.state == WorkflowState.FAILED:
            moved = self.ledger.move(record, WorkflowState.FIXING, "diagnosing", ctx.execution_id)
            if not moved:
                return HealOutcome("skipped", record.id, message="another healer holds it")
        elif record.state == WorkflowState.NEEDS_ATTENTION and not escalating:
            diagnose = partial(self.diagnose, ctx, tenant)
            return attention.on_failure(self.ledger, record, ctx, tenant, diagnose, lang)
        elif not (escalating and record.state == WorkflowState.FIXING):
            message = translate(MESSAGES, "skip_state", lang, state=record.state)
            return HealOutcome("skipped", record.id, message=message)
        return None

    def diagnose(self, ctx: ErrorContext, tenant: TenantInfo) -> Diagnosis:
        """Classify the failure within the tenant's LLM budget; audited (and counted)."""
        limits = self.settings.tier(tenant.tier)
        now = self.ledger.now()
        _, spent = heal_store.month_usage(self.store, tenant.id, gate.month_start(now))
        budget = max(0.0, min(limits.max_cost - spent, self.settings.max_cost_per_fix))
        secrets = tuple(self.kyra.secrets_of(tenant.id).values()) if self.llm else ()
        diagnosis = self.diagnoser.diagnose(
            ctx, lang=tenant.lang_code, llm=self.llm, budget=budget, secrets=secrets
        )
        self.ledger.record(
            audit=Audit(
                kind="diagnosis",
                tenant_id=tenant.id,
                workflow_id=ctx.workflow_id,
                execution_id=ctx.execution_id,
                summary=f"{diagnosis.error_class.value} ({diagnosis.safety.value}, "
                f"{diagnosis.confidence}%, {diagnosis.tier.value})",
                details=diagnosis.to_output(),
                cost=diagnosis.estimated_cost,
            )
        )
        return diagnosis

    def _decide(
        self, record: WorkflowRecord, tenant: TenantInfo, ctx: ErrorContext, diagnosis: Diagnosis
    ) -> tuple[Decision, Diagnosis]:
        """The tenant's rules, the remedy, what other workflows learned, the gate; then
        `decide` (a value). Returns it with the diagnosis as rules and learning left it."""
        settings = self.settings
        rule = rules_for_tenant(self.store, tenant, settings).decide(
            ctx, diagnosis, settings, tenant.lang_code
        )
        if rule is not None:
            diagnosis, settings = rule.diagnosis, rule.settings
            self.ledger.record(
                audit=Audit(
                    kind="rule_applied",
                    tenant_id=tenant.id,
                    workflow_id=record.id,
                    execution_id=ctx.execution_id,
                    summary=rule.summary(),
                    details=rule.to_json(),
                )
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
            now = self.ledger.now()
            if isinstance(remedy, RemedyPlan):  # cross-workflow learning: confidence only
                diagnosis = learning.consult(
                    self.store, tenant.id, ctx, diagnosis, remedy.key, now, tenant.lang_code
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
            verdict = gate.check(self.store, self.settings, request, now)
        decision = decide(diagnosis, remedy, verdict, self.settings, tenant.lang_code)
        return decision, diagnosis

    def _history(self, record: WorkflowRecord) -> Any:
        def history(step_name: str) -> list[dict[str, Any]]:
            return exec_store.recent_step_params(self.store, record.id, step_name)

        return history

    def _upstream_recovered(self, diagnosis: Diagnosis, ctx: ErrorContext) -> bool:
        """A 503 from an upstream that kept answering other calls well (its circuit
        closed): the re-run need not wait as long as for an outage."""
        if diagnosis.error_class is not ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE:
            return False
        url = (ctx.execution_context.get("params") or {}).get("url")
        if not isinstance(url, str) or ctx.tenant_id is None:
            return False
        return self.kyra.fleet.recovered_since(ctx.tenant_id, url, ctx.timestamp.timestamp())
