"""What a remedy reads from the failed call: which parameter the error means (only paths
that exist in the step's own parameters can be chosen), the value it sent, the values
that worked before, and the date format the service wants."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kyra.healing.remedy_plan import Case
from kyra.healing.taxonomy import ErrorClass
from kyra.redaction import MASK
from kyra.workflows.dates import infer_strftime, parse_date
from kyra.workflows.model import Step
from kyra.workflows.params import get_path

ISO_DATE = "%Y-%m-%d"


def _leaf_paths(value: Any, prefix: str = "", depth: int = 0) -> Iterator[str]:
    if depth > 6:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                continue
            path = f"{prefix}.{key}" if prefix else key
            yield path
            yield from _leaf_paths(item, path, depth + 1)


def field_path(case: Case) -> str | None:
    """The step parameter path whose last key is the field the error names. Only keys
    that exist in the step's own parameters can be chosen: the error text picks among
    them, it cannot invent a path."""
    name = case.diagnosis.facts.field
    params = case.ctx.execution_context.get("params") or case.step.with_
    candidates = list(_leaf_paths(params))
    if name:
        last = name.split(".")[-1].split("[")[0]
        matching = [p for p in candidates if p.split(".")[-1] == last]
        if matching:
            return min(matching, key=len)
    if case.diagnosis.error_class is ErrorClass.INVALID_DATE_FORMAT:
        dated = [p for p in candidates if _looks_like_date(sample_value(case, p))]
        if len(dated) == 1:
            return dated[0]
    return None


def new_field_path(step: Step, name: str) -> str:
    last = name.split(".")[-1].split("[")[0]
    for container in ("json", "form", "query"):
        if isinstance(step.with_.get(container), dict):
            return f"{container}.{last}"
    return f"json.{last}" if step.action == "http_request" else last


def sample_value(case: Case, path: str) -> Any:
    """The value the failed call sent at `path` (rendered, redacted)."""
    params = case.ctx.execution_context.get("params")
    if isinstance(params, dict):
        return get_path(params, path, None)
    return None


def _looks_like_date(value: Any) -> bool:
    if not isinstance(value, str) or not 6 <= len(value) <= 40 or "{{" in value:
        return False
    try:
        parse_date(value)
    except ValueError:
        return False
    return True


def date_format_for(case: Case, path: str) -> str:
    """The format the service wants: what the error says (validated), else what worked
    in earlier successful runs, else the step's configured date_format, else ISO 8601."""
    if case.diagnosis.facts.expected_format:
        return case.diagnosis.facts.expected_format
    for params in case.history(case.step.name):
        value = get_path(params, path, None)
        if isinstance(value, str):
            fmt = infer_strftime(value)
            if fmt:
                return fmt
    return case.config.date_format or ISO_DATE


def suggested_values(case: Case, path: str) -> list[Any]:
    """Candidate values: the step's configured default, then values that worked before."""
    found: list[Any] = []
    default = case.config.defaults.get(path)
    if default is not None:
        found.append(default)
    for params in case.history(case.step.name):
        value = get_path(params, path, None)
        if isinstance(value, str | int | float | bool) and value not in found and value != MASK:
            found.append(value)
    return found[:5]
