"""YELLOW remedies, proposed to a person: a value for a missing field (or a question when
only a person knows it), the last value that worked for a rejected parameter, the API
version header the service asks for."""

from __future__ import annotations

from typing import Any

from kyra.healing.candidates import as_json, expected_format, for_missing_field
from kyra.healing.patches import ConfigPatch, SetFieldDefault, SetFieldValue, SetHeader
from kyra.healing.remedy_fields import field_path, new_field_path, sample_value, suggested_values
from kyra.healing.remedy_plan import Case, Remedy, RemedyFailed, RemedyPlan
from kyra.healing.taxonomy import ErrorClass

PROVIDER_VERSION_HEADERS = {
    "stripe": "Stripe-Version",
    "notion": "Notion-Version",
    "github": "X-GitHub-Api-Version",
    "anthropic": "anthropic-version",
    "shopify": "X-Shopify-Api-Version",
}
DEFAULT_VERSION_HEADER = "X-API-Version"


def missing_field(case: Case) -> Remedy:
    name = case.diagnosis.facts.field
    if name is None:
        return RemedyFailed("fail.no_field")
    path = field_path(case) or new_field_path(case.step, name)
    known = suggested_values(case, path)
    found = for_missing_field(case.ctx, case.record.workflow.inputs, name, known)
    values: dict[str, Any] = {"name": name, "step": case.step.name, "path": path}
    if not found:  # no empty default: the proposal asks a person for the value
        fmt = expected_format(case.ctx.error_message, case.diagnosis.facts.expected_format)
        values["expect"] = f" ({fmt})" if fmt else ""
    return RemedyPlan(
        ErrorClass.MISSING_REQUIRED_FIELD,
        ConfigPatch(
            ops=(
                SetFieldDefault(
                    step=case.step.name, field=path, value=found[0].value if found else None
                ),
            )
        ),
        rerun_delay=0.0,
        key="missing_field" if found else "missing_field_ask",
        values=values,
        suggestions=[c.value for c in found],
        candidates=as_json(found),
    )


def replace_value(case: Case) -> Remedy:
    path = field_path(case)
    if path is None:
        return RemedyFailed("fail.no_param")
    suggestions = [v for v in suggested_values(case, path) if v != sample_value(case, path)]
    if not suggestions:
        return RemedyFailed("fail.no_good_value", {"path": path})
    return RemedyPlan(
        case.diagnosis.error_class,
        ConfigPatch(ops=(SetFieldValue(step=case.step.name, field=path, value=suggestions[0]),)),
        rerun_delay=0.0,
        key="replace_value",
        values={"step": case.step.name, "path": path},
        suggestions=suggestions,
    )


def api_version(case: Case) -> Remedy:
    version = case.diagnosis.facts.api_version
    if version is None:
        return RemedyFailed("fail.no_version")
    header = PROVIDER_VERSION_HEADERS.get(case.ctx.provider or "", DEFAULT_VERSION_HEADER)
    return RemedyPlan(
        ErrorClass.API_VERSION_MISMATCH,
        ConfigPatch(ops=(SetHeader(step=case.step.name, name=header, value=version),)),
        rerun_delay=0.0,
        key="api_version",
        values={"header": header, "version": version, "step": case.step.name},
    )
