"""Does an applied fix still fit a workflow the user has just replaced?

`kyra workflows apply --replace` brings a new definition written by a person. Kyra's
applied fixes are re-applied on top of it only where they still make sense: every step
they patch still exists, the field they patch is still sent (or, for a default, still
not provided by the user), the value is still inside the hard bounds, and the user has
not already chosen a value at least as generous. Anything else retires the fix: the
person's edit wins over Kyra's old patch, and the reason says why. Pure: no store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from kyra.healing.patches import (
    AddDateNormaliser,
    ConfigPatch,
    SetFieldDefault,
    SetFieldValue,
    SetHeader,
    SetRequestDelay,
    SetRetry,
    SetTimeout,
)
from kyra.i18n import Catalog, Lang, translate
from kyra.workflows.model import Workflow, effective_config
from kyra.workflows.params import MISSING, get_path, parse_path

TEXT: Catalog = {
    "kept": {
        "en": "still fits the new definition",
        "es": "sigue encajando con la nueva definición",
    },
    "step_gone": {
        "en": "step '{step}' no longer exists",
        "es": "el paso '{step}' ya no existe",
    },
    "field_gone": {
        "en": "field '{field}' is no longer sent by the workflow",
        "es": "el workflow ya no envía el campo '{field}'",
    },
    "provided": {
        "en": "the new definition sets '{field}' itself",
        "es": "la nueva definición ya da valor a '{field}'",
    },
    "superseded": {
        "en": "the new definition already sets {what} to {value} (the fix set {fix})",
        "es": "la nueva definición ya fija {what} en {value} (la corrección ponía {fix})",
    },
    "out_of_bounds": {
        "en": "the fix no longer fits within its bounds ({problem})",
        "es": "la corrección ya no cabe en sus límites ({problem})",
    },
}


@dataclass(frozen=True)
class Verdict:
    """Whether one fix fits, with a reason a person can read in either language."""

    fits: bool
    key: str = "kept"
    values: dict[str, Any] = field(default_factory=dict)

    def reason(self, lang: Lang = "en") -> str:
        return translate(TEXT, self.key, lang, **self.values)


KEPT = Verdict(True)


def fits(patch: dict[str, Any], workflow: Workflow) -> tuple[Verdict, ConfigPatch | None]:
    """The verdict for a stored patch against `workflow` (its config is the user's new
    one), and the parsed patch when it fits."""
    try:
        parsed = ConfigPatch.model_validate(patch)
    except ValidationError as exc:
        return Verdict(False, "out_of_bounds", {"problem": _first(exc)}), None
    for op in parsed.ops:
        verdict = _op_fits(op, workflow)
        if not verdict.fits:
            return verdict, None
    try:
        parsed.apply(workflow.config, {s.name for s in workflow.steps})
    except (ValueError, ValidationError) as exc:
        problem = _first(exc) if isinstance(exc, ValidationError) else str(exc)
        return Verdict(False, "out_of_bounds", {"problem": problem}), None
    return KEPT, parsed


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error.get("loc", ()))
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def _op_fits(op: BaseModel, workflow: Workflow) -> Verdict:
    step_name: str | None = getattr(op, "step", None)
    names = {s.name for s in workflow.steps}
    if step_name is not None and step_name not in names:
        return Verdict(False, "step_gone", {"step": step_name})
    steps = [s for s in workflow.steps if step_name is None or s.name == step_name]
    config = (
        effective_config(workflow.config, steps[0]) if step_name is not None else workflow.config
    )
    match op:
        case AddDateNormaliser(field=path) | SetFieldValue(field=path):
            if not any(_may_hold(s.with_, path) for s in steps):
                return Verdict(False, "field_gone", {"field": path})
        case SetFieldDefault(field=path):
            if any(get_path(s.with_, path, MISSING) not in (MISSING, None, "") for s in steps):
                return Verdict(False, "provided", {"field": path})
        case SetTimeout(seconds=seconds):
            return _raise_fits("timeout", config.timeout, seconds)
        case SetRequestDelay(seconds=seconds):
            return _raise_fits("request_delay", config.request_delay, seconds)
        case SetRetry(max_retries=retries):
            # Equal retries are often just the default: only more retries outrank the fix.
            return _raise_fits("retry", config.retry.max_retries, retries, strict=True)
        case SetHeader(name=name):
            if any(h.lower() == name.lower() for h in config.headers):
                return Verdict(False, "provided", {"field": name})
    return KEPT


def _may_hold(params: Any, path: str) -> bool:
    """Whether the step's `with` still has `path`: every mapping on the way holds the
    key; a template (a string rendered at run time) may hold anything below it."""
    current = params
    for segment in parse_path(path):
        if isinstance(current, dict):
            if segment not in current:
                return False
            current = current[segment]
        elif isinstance(current, list):
            if not segment.isdigit() or int(segment) >= len(current):
                return False
            current = current[int(segment)]
        else:
            return isinstance(current, str) and "{{" in current
    return True


def _raise_fits(what: str, current: float, fixed: float, *, strict: bool = False) -> Verdict:
    """A fix raises a limit; when the new definition already allows at least as much,
    the person's choice wins (re-applying would lower it)."""
    if current > fixed or (current == fixed and not strict):
        values = {"what": what, "value": f"{current:g}", "fix": f"{fixed:g}"}
        return Verdict(False, "superseded", values)
    return KEPT
