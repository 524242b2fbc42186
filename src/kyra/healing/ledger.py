"""The healing ledger: each arrow of the loop written as one record.

An arrow (a fix applied, proposed, approved, failed, rolled back...) is three things: the
fix row's new state, the audit record that says who did it and why, and the event the CLI
timeline and the notifications hear. The ledger writes the fix row and the audit record
in one database transaction, and announces the events only once that transaction has
committed: either all three happen or none does (a crash or a refused write leaves no
fix without its audit record, and nobody is told of a change that was not kept).

The workflow's state moves (`move`) are written here too, so the healer's parts have one
place that writes and one clock that stamps (cooldowns, quotas and timelines agree).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kyra.clock import Clock
from kyra.engine.error_context import ErrorContext
from kyra.engine.states import WorkflowState, sources_of
from kyra.errors import IllegalTransitionError
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.events import HealEvent, HealListener, emit
from kyra.healing.explain import remedy_record
from kyra.healing.patches import patch_json
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.db import Store
from kyra.store.healing import FixInfo
from kyra.store.tables import new_id
from kyra.store.workflows import WorkflowRecord

if TYPE_CHECKING:
    from kyra.healing.remedies import RemedyPlan

log = logging.getLogger("kyra.healing")


@dataclass(frozen=True)
class NewFix:
    """A fix row to create; `values` hold its `id` (see `new_fix`)."""

    values: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.values["id"])


@dataclass(frozen=True)
class FixChange:
    """New values of an existing fix row."""

    fix_id: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class Audit:
    """An audit record: who did what to which workflow and fix, and why."""

    kind: str
    summary: str
    tenant_id: str | None
    workflow_id: str | None = None
    fix_id: str | None = None
    execution_id: str | None = None
    actor: str = "kyra"
    details: dict[str, Any] | None = None
    cost: float = 0.0


@dataclass(frozen=True)
class Note:
    """An event to announce once the writes are kept (the ledger stamps its time)."""

    kind: str
    tenant_id: str
    workflow_id: str
    workflow_name: str
    execution_id: str | None = None
    fix_id: str | None = None
    incident: str | None = None
    """The failed execution that opened the incident (one notification thread each)."""
    values: dict[str, Any] = field(default_factory=dict)


def about_run(
    kind: str,
    record: WorkflowRecord,
    ctx: ErrorContext,
    fix_id: str | None = None,
    /,
    **values: Any,
) -> Note:
    """An event about a failed run of `record` (its own incident)."""
    values.setdefault("workflow", record.name)
    values.setdefault("step", ctx.step_name)
    return Note(
        kind,
        record.tenant_id,
        record.id,
        record.name,
        ctx.execution_id,
        fix_id,
        ctx.execution_id,
        values,
    )


def about_fix(kind: str, fix: FixInfo, execution_id: str | None, /, **values: Any) -> Note:
    """An event about `fix`, in the thread of the incident it answers."""
    values.setdefault("workflow", fix.workflow_name)
    return Note(
        kind,
        fix.tenant_id,
        fix.workflow_id,
        fix.workflow_name,
        execution_id,
        fix.id,
        fix.execution_id,
        values,
    )


def new_fix(
    record: WorkflowRecord,
    ctx: ErrorContext,
    diagnosis: Diagnosis,
    *,
    status: str,
    reason: str,
    now: datetime,
    remedy: RemedyPlan | None = None,
    changes: list[dict[str, Any]] | None = None,
    outcome: str = "none",
) -> NewFix:
    """The row of a fix for the failure `ctx`, with its id chosen now (so its audit
    record and event can name it before it is written)."""
    stored = diagnosis.to_output()
    if remedy is not None:
        stored["remedy"] = remedy_record(remedy.key, remedy.values)
    return NewFix(
        {
            "id": new_id(),
            "tenant_id": record.tenant_id,
            "workflow_id": record.id,
            "execution_id": ctx.execution_id,
            "step_name": ctx.step_name,
            "error_class": diagnosis.error_class.value,
            "safety": diagnosis.safety.value,
            "confidence": diagnosis.confidence,
            "tier": diagnosis.tier.value,
            "status": status,
            "reason": reason,
            "diagnosis": stored,
            "patch": patch_json(remedy.patch) if remedy else {},
            "diff": {"changes": changes or []},
            "outcome": outcome,
            "cost": diagnosis.estimated_cost,
            "tokens": diagnosis.tokens,
            "created_at": now,
            "updated_at": now,
        }
    )


class Ledger:
    """Writes the healing loop's records (see the module docstring).

    Parameters:
        store: where fix rows, audit records and state moves go.
        clock: stamps every record and event (the app's clock; tests pass a manual one).
        listeners: who hears the events (the CLI timeline, the notifier, tracing); the
            list is kept, not copied, so a listener added later hears what follows.
    """

    def __init__(self, store: Store, clock: Clock, listeners: list[HealListener]) -> None:
        self.store = store
        self.clock = clock
        self.listeners = listeners

    def now(self) -> datetime:
        return self.clock.now()

    def record(
        self,
        *,
        fix: NewFix | FixChange | None = None,
        audit: Audit | None = None,
        notes: Iterable[Note] = (),
    ) -> None:
        """Write the fix row and the audit record in one transaction, then announce the
        events; a write that fails raises with nothing written and nothing announced."""
        now = self.now()
        notes = list(notes)
        if fix is not None or audit is not None:
            with self.store.engine.begin() as conn:
                if isinstance(fix, NewFix):
                    heal_store.insert_fix(conn, **fix.values)
                elif isinstance(fix, FixChange):
                    heal_store.change_fix(conn, fix.fix_id, **fix.changes)
                if audit is not None:
                    heal_store.insert_audit(
                        conn,
                        kind=audit.kind,
                        actor=audit.actor,
                        summary=audit.summary,
                        tenant_id=audit.tenant_id,
                        workflow_id=audit.workflow_id,
                        fix_id=audit.fix_id,
                        execution_id=audit.execution_id,
                        details=audit.details,
                        cost=audit.cost,
                        at=now,
                    )
        self.announce(*notes, at=now)

    def announce(self, *notes: Note, at: datetime | None = None) -> None:
        """Tell the listeners (a failing listener is logged, never fatal)."""
        when = at or self.now()
        for note in notes:
            emit(
                self.listeners,
                HealEvent(
                    note.kind,
                    note.tenant_id,
                    note.workflow_id,
                    note.workflow_name,
                    when,
                    note.execution_id,
                    note.fix_id,
                    note.values,
                    note.incident,
                ),
            )

    def move(
        self,
        record: WorkflowRecord,
        target: WorkflowState,
        reason: str,
        execution_id: str | None,
        *,
        expect: WorkflowState | None = None,
    ) -> bool:
        """Move the workflow to `target` if its state allows it (another healer may have
        moved it first: then False, and nothing changes)."""
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
