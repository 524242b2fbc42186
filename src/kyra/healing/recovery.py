"""Recovery: a workflow that needed attention runs cleanly again, and healing that
crashed leaves the workflow where a retried healing job picks it up.

The engine moves it back to `active` on its own (a person fixed the cause, a kill switch
was lifted, an upstream came back). Nobody would hear of it, and an open PagerDuty
incident would page on: so each incident the workflow raised while it waited gets a
`recovered` event (PagerDuty resolves it; email, Slack and Teams post "resolved" in the
incident's thread).
"""

from __future__ import annotations

import logging

from kyra.engine.events import RunResult
from kyra.engine.states import WorkflowState
from kyra.healing.ledger import Audit, Ledger, Note
from kyra.store import workflows as wf_store
from kyra.store.workflows import StateChange

log = logging.getLogger("kyra.healing")


def open_incidents(history: list[StateChange], execution_id: str) -> list[str]:
    """The incidents raised while waiting, if `execution_id` is what ended the wait: the
    executions that moved the workflow to needs_attention since it was last active."""
    if not history:
        return []
    last = history[-1]
    if (
        last.execution_id != execution_id
        or last.from_state != WorkflowState.NEEDS_ATTENTION
        or last.to_state != WorkflowState.ACTIVE
    ):
        return []
    incidents: list[str] = []
    for change in reversed(history[:-1]):
        if change.to_state == WorkflowState.ACTIVE:
            break
        incident = change.execution_id
        waiting = change.to_state == WorkflowState.NEEDS_ATTENTION
        if waiting and incident is not None and incident not in incidents:
            incidents.append(incident)
    return list(reversed(incidents))


def announce_recovery(ledger: Ledger, result: RunResult) -> int:
    """Emit `recovered` for each incident a clean run closed; how many were closed."""
    store = ledger.store
    latest = wf_store.last_state_change(store, result.workflow_id)
    if latest is None or latest.execution_id != result.execution_id:
        return 0  # the usual case: one small query, nothing recovered
    history = wf_store.state_history(store, result.workflow_id)
    incidents = open_incidents(history, result.execution_id)
    record = wf_store.get_workflow_by_id(store, result.workflow_id)
    for incident in incidents:
        ledger.record(
            audit=Audit(
                kind="recovered",
                tenant_id=record.tenant_id,
                workflow_id=record.id,
                execution_id=result.execution_id,
                summary=f"run {result.execution_id[:8]} succeeded: "
                f"incident {incident[:8]} resolved",
            ),
            notes=[
                Note(
                    "recovered",
                    record.tenant_id,
                    record.id,
                    record.name,
                    result.execution_id,
                    incident=incident,
                    values={"workflow": record.name},
                )
            ],
        )
    return len(incidents)


def record_crash(ledger: Ledger, result: RunResult, exc: Exception) -> None:
    """Put a workflow healing crashed on back to `failed` (so the runtime's retried
    healing job picks the incident up again) and audit the crash; never raises."""
    log.exception("healing %s crashed", result.workflow_name)
    try:
        record = wf_store.get_workflow_by_id(ledger.store, result.workflow_id)
        if record.state == WorkflowState.FIXING:
            reason = f"healing crashed: {exc}"[:300]
            ledger.move(record, WorkflowState.FAILED, reason, result.execution_id)
        ledger.record(
            audit=Audit(
                kind="healing_crashed",
                tenant_id=record.tenant_id,
                workflow_id=record.id,
                execution_id=result.execution_id,
                summary=f"{type(exc).__name__}: {exc}"[:300],
            )
        )
    except Exception:
        log.exception("could not record the healing crash of %s", result.workflow_name)
