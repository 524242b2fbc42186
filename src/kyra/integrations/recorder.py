"""Diagnoses and outcomes of code outside Kyra, recorded where the Health Center counts.

The Health Center and `/metrics` count executions (failures per day), fixes (auto-fixes,
success rate, MTTR, `kyra_fixes`) and `diagnosis` audit records (latency, tokens, cost).
So one decorated function or Celery task becomes one workflow of its own (manual
trigger, state left `active`, so the healing runtime never picks it up), and one call
that failed is recorded through the store's repositories as:

    a failed execution (its ErrorContext), a `diagnosis` audit record per diagnosed failure,
    for a GREEN failure that is retried: a fix `applied`, outcome `pending`, whose outcome
    becomes `succeeded` (verified, with a succeeded re-run execution) or `failed`.

Recording is best effort: a database problem is logged and never breaks the caller.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from kyra.errors import ConflictError, NotFoundError
from kyra.healing.lifecycle import AuditKind, FixOutcome, FixStatus
from kyra.integrations.verdict import Verdict
from kyra.store import Store, open_store
from kyra.store import executions as exec_store
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.tenants import ensure_tenant
from kyra.store.types import utcnow
from kyra.workflows.model import Workflow

log = logging.getLogger("kyra.integrations")
STEP = "call"
TRIGGER = "external"
ACTOR = "kyra"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def workflow_name(qualified: str) -> str:
    """`tasks.fetch_invoice`, `app.<locals>.f` → a valid workflow name (≤ 100 characters)."""
    name = _UNSAFE_NAME.sub("_", qualified.removeprefix("__main__.")).strip("_.-") or "external"
    return name[:100]


class Recorder:
    """Writes one tenant's external calls into a Kyra store."""

    def __init__(self, store: Store, tenant: str = "default") -> None:
        self.store = store
        self.tenant = tenant
        self._tenant_id: str | None = None
        self._workflows: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def tenant_id(self) -> str:
        if self._tenant_id is None:
            self._tenant_id = ensure_tenant(self.store, self.tenant).id
        return self._tenant_id

    def workflow_id(self, name: str) -> str:
        """The id of the workflow that stands for `name`, created on first use."""
        with self._lock:
            known = self._workflows.get(name)
            if known is not None:
                return known
            try:
                record = wf_store.get_workflow(self.store, self.tenant_id, name)
            except NotFoundError:
                try:
                    record, _ = wf_store.save_workflow(
                        self.store, self.tenant_id, _stand_in(name), source="kyra.integrations"
                    )
                except ConflictError:  # created by another process just now
                    record = wf_store.get_workflow(self.store, self.tenant_id, name)
            self._workflows[name] = record.id
            return record.id

    def call(self, name: str) -> CallLog:
        return CallLog(self, workflow_name(name))


def _stand_in(name: str) -> Workflow:
    return Workflow.model_validate(
        {
            "name": name,
            "description": "Runs outside Kyra (kyra.heal, Celery or Prefect); Kyra records "
            "its diagnoses and retries here.",
            "trigger": "manual",
            "steps": [{"name": STEP, "action": "transform", "with": {"value": name}}],
        }
    )


@dataclass
class CallLog:
    """The record of one call: written at its first failure, settled at its end."""

    recorder: Recorder
    name: str
    workflow_id: str | None = None
    failed_execution: str | None = None
    fix_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)

    def failure(self, verdict: Verdict, *, retrying: bool, delay: float | None) -> None:
        """One failed attempt: its diagnosis; at the first one, the failed execution; the
        first time a retry is decided, the fix that stands for it."""
        _safely(self._failure, verdict, retrying, delay)

    def finish(self, succeeded: bool, reason: str | None = None) -> None:
        """The call ended: settle the fix (if a retry was tried) and record the re-run."""
        _safely(self._finish, succeeded, reason)

    def _failure(self, verdict: Verdict, retrying: bool, delay: float | None) -> None:
        rec = self.recorder
        store = rec.store
        if self.workflow_id is None:
            self.workflow_id = rec.workflow_id(self.name)
        ctx = verdict.context.model_copy(
            update={"workflow_name": self.name, "workflow_id": self.workflow_id, "step_name": STEP}
        )
        if self.failed_execution is None:
            self.failed_execution = exec_store.create_execution(
                store,
                tenant_id=rec.tenant_id,
                workflow_id=self.workflow_id,
                inputs={},
                trigger=TRIGGER,
                status="running",
            )
            exec_store.finish_execution(
                store,
                self.failed_execution,
                "failed",
                failed_step=STEP,
                error_context=ctx.model_dump(mode="json"),
            )
        diagnosis = verdict.diagnosis
        output: Mapping[str, Any] = diagnosis.to_output() if diagnosis is not None else {}
        heal_store.add_audit(
            store,
            kind=AuditKind.DIAGNOSIS,
            actor=ACTOR,
            tenant_id=rec.tenant_id,
            workflow_id=self.workflow_id,
            execution_id=self.failed_execution,
            summary=f"{verdict.error_class.value} ({verdict.safety.value})",
            details=dict(output),
            cost=diagnosis.estimated_cost if diagnosis is not None else 0.0,
        )
        if retrying and self.fix_id is None and diagnosis is not None:
            reason = f"retry in {delay:g} s" if delay is not None else "retry"
            self.fix_id = heal_store.create_fix(
                store,
                tenant_id=rec.tenant_id,
                workflow_id=self.workflow_id,
                execution_id=self.failed_execution,
                step_name=STEP,
                error_class=diagnosis.error_class.value,
                safety=diagnosis.safety.value,
                confidence=diagnosis.confidence,
                tier=diagnosis.tier.value,
                status=FixStatus.APPLIED,
                outcome=FixOutcome.PENDING,
                reason=reason,
                diagnosis=dict(output),
                patch={"retry_in_seconds": delay},
                cost=diagnosis.estimated_cost,
                tokens=diagnosis.tokens,
            )
            heal_store.add_audit(
                store,
                kind=AuditKind.FIX_APPLIED,
                actor=ACTOR,
                tenant_id=rec.tenant_id,
                workflow_id=self.workflow_id,
                fix_id=self.fix_id,
                execution_id=self.failed_execution,
                summary=reason,
            )

    def _finish(self, succeeded: bool, reason: str | None) -> None:
        if self.fix_id is None or self.workflow_id is None:
            return
        rec = self.recorder
        now = utcnow()
        changes: dict[str, Any] = {"outcome": "succeeded" if succeeded else "failed"}
        if reason:
            changes["reason"] = reason
        if succeeded:
            rerun = exec_store.create_execution(
                rec.store,
                tenant_id=rec.tenant_id,
                workflow_id=self.workflow_id,
                inputs={},
                trigger=TRIGGER,
                resume_of=self.failed_execution,
                status="running",
            )
            exec_store.finish_execution(rec.store, rerun, "succeeded")
            changes.update(rerun_execution_id=rerun, rerun_at=now, verified_at=now, settled=True)
        heal_store.update_fix(rec.store, self.fix_id, **changes)


def _safely(action: Any, *args: Any) -> None:
    try:
        action(*args)
    except Exception as exc:
        log.warning("kyra: could not record a diagnosis or outcome: %s", exc)


@cache
def _recorder_for(url: str, tenant: str) -> Recorder:
    return Recorder(open_store(url), tenant)


def recorder_from(store: Store | str | None = None, tenant: str | None = None) -> Recorder | None:
    """The recorder for an explicit store (or database URL), else for `KYRA_DATABASE_URL`
    when it is set (in the environment or kyra.toml); None when no database is configured."""
    from kyra.settings import Settings

    settings = Settings()
    tenant = tenant or settings.tenant
    if isinstance(store, Store):
        return Recorder(store, tenant)
    if isinstance(store, str):
        return _recorder_for(store, tenant)
    if "database_url" in settings.model_fields_set:
        return _recorder_for(settings.database_url, tenant)
    return None
