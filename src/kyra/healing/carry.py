"""Carry Kyra's applied fixes across a user's `apply --replace`.

Without this, a replaced definition silently dropped every applied fix while the fixes
were still listed as applied. Now: the user's file is saved as its own version, then
each active fix that still fits (see `fit`) is re-applied on top as a Kyra version of
its own (so rolling one back still returns to the version before it); a fix that no
longer fits is retired, with its reason on the fix and in an audit record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kyra.errors import NotFoundError
from kyra.healing.fit import Verdict, fits
from kyra.healing.lifecycle import IN_FORCE, AuditKind, FixStatus
from kyra.i18n import Lang
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.db import Store
from kyra.store.healing import FixInfo
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Workflow


@dataclass(frozen=True)
class CarriedFix:
    fix_id: str
    error_class: str
    verdict: Verdict

    def as_dict(self, lang: Lang = "en") -> dict[str, Any]:
        return {
            "fix_id": self.fix_id,
            "error_class": self.error_class,
            "reason": self.verdict.reason(lang),
            "reason_key": self.verdict.key,
        }


@dataclass(frozen=True)
class Carried:
    """What happened to the workflow's applied fixes on a replace."""

    kept: list[CarriedFix] = field(default_factory=list)
    retired: list[CarriedFix] = field(default_factory=list)

    def as_dict(self, lang: Lang = "en") -> dict[str, Any]:
        return {
            "kept": [c.as_dict(lang) for c in self.kept],
            "retired": [c.as_dict(lang) for c in self.retired],
        }


def active_fixes(store: Store, tenant_id: str, workflow_id: str) -> list[FixInfo]:
    """Fixes whose patch is in the current config, oldest first (the order they landed)."""
    found = [
        fix
        for status in sorted(IN_FORCE)  # oldest first below, whatever the order here
        for fix in heal_store.list_fixes(
            store, tenant_id, workflow_id=workflow_id, status=status, limit=1000
        )
        if fix.to_version is not None
    ]
    return sorted(found, key=lambda f: (f.created_at, f.id))


def save_keeping_fixes(
    store: Store, tenant_id: str, workflow: Workflow, *, replace: bool, source: str
) -> tuple[WorkflowRecord, bool, Carried]:
    """`save_workflow`, then re-apply or retire the fixes that were active before."""
    try:
        before = wf_store.get_workflow(store, tenant_id, workflow.name) if replace else None
    except NotFoundError:  # no such workflow yet: a plain create
        before = None
    active = active_fixes(store, tenant_id, before.id) if before is not None else []
    if before is None or not active:
        record, created = wf_store.save_workflow(
            store, tenant_id, workflow, replace=replace, source=source
        )
        return record, created, Carried()
    current = before.workflow.config.model_dump(mode="json")
    if workflow.config.model_dump(mode="json") == current:
        # The file already holds the healed config (e.g. from `kyra workflows export`).
        record, created = wf_store.save_workflow(
            store, tenant_id, workflow, replace=True, source=source
        )
        kept = [CarriedFix(f.id, f.error_class, Verdict(True)) for f in active]
        return record, created, Carried(kept=kept)
    record, created = wf_store.save_workflow(
        store, tenant_id, workflow, replace=True, source=source
    )
    carried = Carried()
    for fix in active:
        verdict, patch = fits(fix.patch, record.workflow)
        if patch is None:
            _retire(store, fix, verdict)
            carried.retired.append(CarriedFix(fix.id, fix.error_class, verdict))
            continue
        steps = {s.name for s in record.workflow.steps}
        config = patch.apply(record.workflow.config, steps)
        version = wf_store.add_config_version(
            store,
            record.id,
            config,
            author="kyra",
            reason=f"fix {fix.id[:8]} re-applied on top of the replaced definition",
            fix_id=fix.id,
            expected_version=record.config_version,
        )
        heal_store.update_fix(
            store, fix.id, from_version=record.config_version, to_version=version.number
        )
        heal_store.add_audit(
            store,
            kind=AuditKind.FIX_REAPPLIED,
            actor="kyra",
            summary=f"fix {fix.id[:8]} re-applied after the workflow was replaced",
            tenant_id=fix.tenant_id,
            workflow_id=fix.workflow_id,
            fix_id=fix.id,
            details={"from_version": record.config_version, "to_version": version.number},
        )
        carried.kept.append(CarriedFix(fix.id, fix.error_class, verdict))
        record = wf_store.get_workflow_by_id(store, record.id)
    return record, created, carried


def _retire(store: Store, fix: FixInfo, verdict: Verdict) -> None:
    reason = f"retired: {verdict.reason('en')}"
    heal_store.update_fix(store, fix.id, status=FixStatus.RETIRED, settled=True, reason=reason)
    heal_store.add_audit(
        store,
        kind=AuditKind.FIX_RETIRED,
        actor="kyra",
        summary=f"fix {fix.id[:8]} {reason}",
        tenant_id=fix.tenant_id,
        workflow_id=fix.workflow_id,
        fix_id=fix.id,
        details={"reason_key": verdict.key, **verdict.values},
    )
