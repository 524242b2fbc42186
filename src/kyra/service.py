"""Operations shared by the CLI and the API: each checks, then calls the store."""

from __future__ import annotations

from kyra.app import Kyra
from kyra.engine.states import WorkflowState, sources_of
from kyra.errors import WorkflowDefinitionError
from kyra.healing.carry import Carried, save_keeping_fixes
from kyra.store import secrets as secret_store
from kyra.store import workflows as wf_store
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import TriggerKind, Workflow
from kyra.workflows.references import secret_references


def apply_workflow(
    kyra: Kyra, tenant_id: str, workflow: Workflow, *, replace: bool = False, source: str = ""
) -> tuple[WorkflowRecord, bool]:
    """`apply_workflow_carrying` without the report of the carried fixes."""
    record, created, _ = apply_workflow_carrying(
        kyra, tenant_id, workflow, replace=replace, source=source
    )
    return record, created


def apply_workflow_carrying(
    kyra: Kyra, tenant_id: str, workflow: Workflow, *, replace: bool = False, source: str = ""
) -> tuple[WorkflowRecord, bool, Carried]:
    """Save a validated workflow after checking that every secret it names exists, so a
    missing secret is reported now and not at the first 3 a.m. run, and that an interval
    trigger is not faster than `KYRA_MIN_TRIGGER_INTERVAL_SECONDS` (the loader reports
    that with its line; this covers workflows built in code)."""
    known = set(secret_store.secret_names(kyra.store, tenant_id))
    problems = [
        f"{where}: unknown secret {name!r} (set it with: kyra secrets set {name})"
        for where, name in secret_references(workflow)
        if name not in known
    ]
    minimum = kyra.settings.min_trigger_interval_seconds
    interval = workflow.trigger.interval
    is_interval = workflow.trigger.kind is TriggerKind.INTERVAL
    if is_interval and interval is not None and interval < minimum:
        problems.append(
            f"trigger.interval: an interval trigger fires at most every {minimum:g}s "
            f"(KYRA_MIN_TRIGGER_INTERVAL_SECONDS); got {interval:g}s"
        )
    if problems:
        raise WorkflowDefinitionError(source or workflow.name, problems)
    return save_keeping_fixes(kyra.store, tenant_id, workflow, replace=replace, source=source)


def set_workflow_state(
    kyra: Kyra, tenant_id: str, name: str, target: str, *, actor: str
) -> WorkflowRecord:
    """Activate or deactivate a workflow by hand (a no-op when it is already there);
    the transition is recorded with who asked."""
    state = WorkflowState(target)
    record = wf_store.get_workflow(kyra.store, tenant_id, name)
    if record.state != state:
        wf_store.transition_state(
            kyra.store,
            record.id,
            state,
            allowed_from=sources_of(state),
            reason=f"set {state} by {actor}",
        )
        record = wf_store.get_workflow(kyra.store, tenant_id, name)
    return record
