"""Store records → API bodies. One place, so the API and the dashboard agree."""

from __future__ import annotations

from typing import Any

from kyra.api import schemas as s
from kyra.healing.explain import remedy_text
from kyra.i18n import Lang
from kyra.store.executions import ExecutionInfo
from kyra.store.healing import AuditRecord, FixInfo
from kyra.store.workflows import WorkflowRecord


def workflow_summary(record: WorkflowRecord, webhook: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "description": record.workflow.description,
        "state": record.state,
        "state_reason": record.state_reason,
        "config_version": record.config_version,
        "trigger": record.workflow.trigger.model_dump(mode="json", exclude_none=True),
        "steps": [step.name for step in record.workflow.steps],
        "webhook": webhook,
        "updated_at": record.updated_at,
    }


def execution(info: ExecutionInfo) -> s.ExecutionOut:
    return s.ExecutionOut(
        id=info.id,
        workflow=info.workflow_name,
        status=info.status,
        trigger=info.trigger,
        config_version=info.config_version,
        resume_of=info.resume_of,
        failed_step=info.failed_step,
        created_at=info.created_at,
        started_at=info.started_at,
        finished_at=info.finished_at,
        duration_ms=info.duration_ms,
    )


def execution_detail(info: ExecutionInfo) -> s.ExecutionDetail:
    return s.ExecutionDetail(
        **execution(info).model_dump(),
        inputs=info.inputs,
        error_context=info.error_context,
        steps=[
            s.StepOut(
                index=st.step_index,
                name=st.step_name,
                action=st.action,
                status=st.status,
                attempts=st.attempts,
                duration_ms=st.duration_ms,
                reused=st.reused,
                output=st.output,
                error=st.error,
            )
            for st in info.steps
        ],
    )


def fix(info: FixInfo, lang: Lang | None = None) -> s.FixOut:
    """A fix; with `lang`, its reason reads in that language (else the stored text)."""
    return s.FixOut(
        id=info.id,
        workflow=info.workflow_name,
        error_class=info.error_class,
        safety=info.safety,
        status=info.status,
        outcome=info.outcome,
        reason=remedy_text(info, lang) if lang else info.reason,
        diff=list(info.diff.get("changes", [])),
        patch=list(info.patch.get("ops", [])),
        confidence=info.confidence,
        tier=info.tier,
        from_version=info.from_version,
        to_version=info.to_version,
        execution_id=info.execution_id,
        rerun_execution_id=info.rerun_execution_id,
        cost=info.cost,
        decided_by=info.decided_by,
        created_at=info.created_at,
        verified_at=info.verified_at,
    )


def audit(record: AuditRecord) -> s.AuditOut:
    return s.AuditOut(
        id=record.id,
        kind=record.kind,
        actor=record.actor,
        workflow=record.workflow_name,
        fix_id=record.fix_id,
        execution_id=record.execution_id,
        summary=record.summary,
        details=record.details,
        cost=record.cost,
        at=record.created_at,
    )
