"""Shared plumbing of the healer: clock, state moves, fix rows, re-runs and events.

Split from `healer.py` so each part of the loop (healing a failure, verification and
rollback, people's decisions) reads on its own; they all share this base.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from kyra.app import Kyra
from kyra.engine.error_context import ErrorContext
from kyra.engine.states import WorkflowState, sources_of
from kyra.errors import IllegalTransitionError
from kyra.healing.diagnosis.engine import Diagnoser, default_diagnoser
from kyra.healing.diagnosis.llm import LLMSettings
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.events import HealEvent, HealListener, emit
from kyra.healing.explain import remedy_record
from kyra.healing.patches import ConfigPatch
from kyra.healing.remedies import RemedyPlan
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import ErrorClass
from kyra.i18n import Lang
from kyra.store import executions as exec_store
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.healing import FixInfo
from kyra.store.tenants import TenantInfo
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import RerunFrom

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


class HealerBase:
    """State and plumbing shared by the healer's parts."""

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
        self.settings = settings or kyra.healing_settings
        self.diagnoser = diagnoser or default_diagnoser()
        self.llm = llm
        self.listeners = list(listeners or [])
        self.lang: Lang | None = None
        """The language of the person at the terminal (`kyra run`), for what is said to
        them only (why healing was skipped, why a retry is refused); None: the tenant's.
        Stored reasons, audit records and notifications stay in the tenant's language."""

    def rollback(
        self,
        fix_id: str,
        *,
        actor: str = "user",
        reason: str = "",
        automatic: bool = False,
        tenant_id: str | None = None,
    ) -> FixInfo:
        """Defined by `DecisionsMixin`; declared here so verification can call it."""
        raise NotImplementedError

    # -- plumbing ---------------------------------------------------------------------------

    def _audit(self, *, kind: str, summary: str, actor: str = "kyra", **where: Any) -> None:
        """An audit record stamped with the healer's clock (so cooldowns, quotas and
        timelines agree on time)."""
        heal_store.add_audit(
            self.store, kind=kind, actor=actor, summary=summary, at=self._now(), **where
        )

    def _say_lang(self, tenant: TenantInfo) -> Lang:
        return self.lang or tenant.lang_code

    def _now(self) -> Any:
        return self.kyra.clock.now()

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
        stored = diagnosis.to_output()
        if remedy is not None:
            stored["remedy"] = remedy_record(remedy.key, remedy.values)
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
            diagnosis=stored,
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
