"""From a diagnosis to a remedy: a bounded config patch plus a re-run plan.

Each remedy reads typed facts (validated by diagnosis) and the workflow's own config and
history; error text never becomes config except through those narrow, validated facts.
GREEN remedies (`green_remedies`) are applied by the healer; YELLOW ones
(`yellow_remedies`) become proposals for a person. The values they return are in
`remedy_plan`, what they say in `remedy_text`, what they read from the failed call in
`remedy_fields`.
"""

from __future__ import annotations

from collections.abc import Callable

from kyra.engine.error_context import ErrorContext
from kyra.healing import green_remedies as green
from kyra.healing import yellow_remedies as yellow
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.remedy_plan import Case, Remedy, RemedyFailed, RemedyPlan, StepHistory
from kyra.healing.remedy_text import TEXT
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import ErrorClass
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import effective_config

__all__ = ["TEXT", "Remedy", "RemedyFailed", "RemedyPlan", "StepHistory", "plan_remedy"]


def plan_remedy(
    diagnosis: Diagnosis,
    ctx: ErrorContext,
    record: WorkflowRecord,
    settings: HealingSettings,
    history: StepHistory,
    *,
    upstream_recovered: bool = False,
) -> Remedy:
    """The remedy for a diagnosed failure (GREEN and YELLOW classes); RED has none."""
    try:
        step = record.workflow.step(ctx.step_name or "")
    except KeyError:
        return RemedyFailed("fail.step_gone", {"step": ctx.step_name})
    cause = diagnosis.root_cause
    if cause is not None and cause.step != step.name:
        # Patching the step that only used a bad value would hide the fault: point at its source.
        return RemedyFailed("fail.chain", {"step": cause.step, "path": cause.path})
    case = Case(
        diagnosis,
        ctx,
        record,
        step,
        effective_config(record.workflow.config, step),
        settings,
        history,
        upstream_recovered,
    )
    planner = _PLANNERS.get(diagnosis.error_class)
    if planner is None:
        return RemedyFailed("fail.never", {"error_class": diagnosis.error_class.value})
    return planner(case)


_PLANNERS: dict[ErrorClass, Callable[[Case], Remedy]] = {
    ErrorClass.RATE_LIMIT_EXCEEDED: green.rate_limit,
    ErrorClass.TIMEOUT_ERROR: green.timeout,
    ErrorClass.CONNECTION_TIMEOUT: green.timeout,
    ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE: green.unavailable,
    ErrorClass.INVALID_DATE_FORMAT: green.date_format,
    ErrorClass.MISSING_REQUIRED_FIELD: yellow.missing_field,
    ErrorClass.INVALID_PARAMETER_FORMAT: yellow.replace_value,
    ErrorClass.DATA_VALIDATION_ERROR: yellow.replace_value,
    ErrorClass.API_VERSION_MISMATCH: yellow.api_version,
}
