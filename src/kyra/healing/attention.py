"""Failures of a workflow that already needs attention.

A workflow waiting for a person keeps running (schedules, webhooks). The same error again
needs no second alarm, but a different one (the person fixed the API key, now the date
format breaks) is news: it is diagnosed and announced like any first failure, so it is
never dropped in silence. The error classes already known are read back from the audit
trail since the workflow last entered `needs_attention`.
"""

from __future__ import annotations

from collections.abc import Callable

from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.ledger import Audit, Ledger, about_run
from kyra.healing.messages import MESSAGES
from kyra.healing.outcome import HealOutcome, short_error
from kyra.i18n import Lang, translate
from kyra.store import healing as heal_store
from kyra.store.db import Store
from kyra.store.tenants import TenantInfo
from kyra.store.workflows import WorkflowRecord

ENTERING = frozenset({"needs_attention", "fix_proposed", "blocked", "rollback"})
"""Audit kinds written when a workflow is put in `needs_attention`."""
SEEN = frozenset({"diagnosis", "new_error"})
"""Audit kinds naming an error class seen while it waits."""
LOOKBACK = 200


def known_classes(store: Store, record: WorkflowRecord) -> set[str]:
    """Error classes seen since the workflow last entered `needs_attention` (newest audit
    records first, down to the one that put it there)."""
    known: set[str] = set()
    for entry in heal_store.list_audit(
        store, record.tenant_id, workflow_id=record.id, limit=LOOKBACK
    ):
        found = entry.details.get("error_class") if isinstance(entry.details, dict) else None
        if entry.kind in SEEN and isinstance(found, str):
            known.add(found)
        elif entry.kind in ENTERING:
            if isinstance(found, str):
                known.add(found)
            elif entry.fix_id:
                known.add(heal_store.get_fix(store, entry.fix_id).error_class)
            break
    return known


def on_failure(
    ledger: Ledger,
    record: WorkflowRecord,
    ctx: ErrorContext,
    tenant: TenantInfo,
    diagnose: Callable[[], Diagnosis],
    say: Lang,
) -> HealOutcome:
    """Diagnose a failure of a workflow in `needs_attention` (`diagnose`, called once the
    known classes are read: its own audit record must not count); announce it when its
    error class is new, else say why healing is skipped (in `say`, the caller's language)."""
    known = known_classes(ledger.store, record)
    diagnosis = diagnose()
    error_class = diagnosis.error_class.value
    if error_class in known:
        message = translate(
            MESSAGES,
            "skip_attention",
            say,
            error_class=error_class,
            reason=record.state_reason or "-",
        )
        return HealOutcome("skipped", record.id, diagnosis=diagnosis, message=message)
    reason = translate(
        MESSAGES,
        "new_error",
        tenant.lang_code,
        error_class=error_class,
        known=", ".join(sorted(known)) or "-",
        explanation=diagnosis.explanation,
    )
    ledger.announce(
        about_run("failure_detected", record, ctx, error=short_error(ctx)),
        about_run(
            "diagnosed",
            record,
            ctx,
            error_class=error_class,
            safety=diagnosis.safety.value,
            confidence=diagnosis.confidence,
            tier=diagnosis.tier.value,
            explanation=diagnosis.explanation,
        ),
    )
    ledger.record(
        audit=Audit(
            kind="new_error",
            tenant_id=tenant.id,
            workflow_id=record.id,
            execution_id=ctx.execution_id,
            summary=reason,
            details={"error_class": error_class, "safety": diagnosis.safety.value},
        ),
        notes=[about_run("needs_attention", record, ctx, reason=reason)],
    )
    return HealOutcome("needs_attention", record.id, diagnosis=diagnosis, message=reason)
