"""Re-runs: the one way a failed execution is tried again later.

Healing plans one after a fix (trigger `heal`), a run-failed handler may plan one
(`kyra.runtime.handlers.schedule_rerun`, trigger `rerun`). Either way it is a durable
`waiting` execution that resumes the failed one: from its failed step (or from the start
when the workflow says `rerun_from: start`), reusing the outputs of the steps before it,
with the same inputs. Both runtimes pick it up when due; it survives restarts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kyra.store import executions as exec_store
from kyra.store import workflows as wf_store
from kyra.store.db import Store
from kyra.workflows.model import RerunFrom


def schedule_rerun(
    store: Store,
    execution_id: str,
    run_at: datetime,
    *,
    start_step: int | None = None,
    inputs: dict[str, Any] | None = None,
    trigger: str = "rerun",
) -> str:
    """Create a delayed re-run of `execution_id`; returns the new execution's id."""
    if run_at.tzinfo is None:
        raise ValueError("run_at must be an aware datetime (UTC)")
    source = exec_store.get_execution(store, execution_id)
    if start_step is None:
        start_step = _resume_step(store, source.workflow_id, source.failed_step)
    return exec_store.create_execution(
        store,
        tenant_id=source.tenant_id,
        workflow_id=source.workflow_id,
        inputs=dict(source.inputs if inputs is None else inputs),
        trigger=trigger,
        resume_of=source.id,
        start_step=start_step,
        run_at=run_at,
        status="waiting",
    )


def _resume_step(store: Store, workflow_id: str, failed_step: str | None) -> int:
    workflow = wf_store.get_workflow_by_id(store, workflow_id).workflow
    if failed_step is None or workflow.rerun_from is RerunFrom.START:
        return 0
    names = [s.name for s in workflow.steps]
    return names.index(failed_step) if failed_step in names else 0
