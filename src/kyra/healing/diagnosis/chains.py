"""Error chains: find the earlier step whose output made this step fail.

A step that fails on `{{ steps.fetch.output.json.user.email }}` (or on the value it
rendered to) usually did nothing wrong: `fetch` returned null, an empty list, a string
instead of an object, or an object without the key. This module reads the failing
step's templates (from its `ErrorContext`), follows every `steps.X.output…` chain
through the outputs the run had so far, and names the first link that is null, empty,
of the wrong type or missing: `RootCause(step, path, reason)`.

It runs after the tiers have answered (`attach_root_cause`, one call in the
diagnoser), reads only the redacted context the engine stored, and reports paths taken
from the workflow's own templates plus type names, never upstream values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes

from kyra.engine.error_context import ErrorContext
from kyra.errors import TemplateError
from kyra.healing.diagnosis.types import Diagnosis, RootCause
from kyra.healing.reasons import Reason
from kyra.healing.taxonomy import ErrorClass
from kyra.i18n import Catalog, Lang
from kyra.workflows._sandbox import is_template, parse
from kyra.workflows.templating import variable_chain

DATA_CLASSES = frozenset(
    {
        ErrorClass.MISSING_REQUIRED_FIELD,
        ErrorClass.INVALID_PARAMETER_FORMAT,
        ErrorClass.DATA_VALIDATION_ERROR,
        ErrorClass.INVALID_DATE_FORMAT,
    }
)
"""Classes an upstream's bad output can cause; a 503 or a 401 is never a chain."""
INPUT_ERRORS = frozenset({"TemplateError", "ValidationError"})
"""The step's parameters did not render or did not validate: always worth a trace."""
DATA_STATUSES = frozenset({400, 422})
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
MAX_USES = 200
BODY_PARAMS = frozenset({"json", "body", "form", "params", "query", "data"})
"""Parameters that are a request body: a field the service names is relative to them."""

TEXT: Catalog = {
    "null": {
        "en": "Root cause: step '{step}' returned null at {path}; step '{failed}' only used it.",
        "es": "Causa raíz: el paso '{step}' devolvió null en {path}; el paso '{failed}' "
        "solo lo usó.",
    },
    "empty": {
        "en": "Root cause: step '{step}' returned an empty {found} at {path}; step "
        "'{failed}' only used it.",
        "es": "Causa raíz: el paso '{step}' devolvió un valor vacío ({found}) en {path}; el "
        "paso '{failed}' solo lo usó.",
    },
    "wrong_type": {
        "en": "Root cause: step '{step}' returned a {found} at {path} where an object or a "
        "list was expected; step '{failed}' only used it.",
        "es": "Causa raíz: el paso '{step}' devolvió un {found} en {path} donde se esperaba "
        "un objeto o una lista; el paso '{failed}' solo lo usó.",
    },
    "missing_key": {
        "en": "Root cause: step '{step}' returned no {path}; step '{failed}' only used it.",
        "es": "Causa raíz: el paso '{step}' no devolvió {path}; el paso '{failed}' solo lo usó.",
    },
}


@dataclass(frozen=True)
class Use:
    """One `steps.STEP.output…` chain in one parameter of the failing step."""

    param: str
    """The parameter path it feeds (`json.email`, `url`)."""
    step: str
    segments: tuple[str | int, ...]
    """The keys after `output`."""


@dataclass(frozen=True)
class Finding:
    cause: RootCause
    blocking: bool
    """True when the chain could not be followed to its end (what breaks a render)."""


def attach_root_cause(diagnosis: Diagnosis, ctx: ErrorContext, lang: Lang) -> Diagnosis:
    """`diagnosis` with `root_cause` and a sentence naming it, when a chain explains it."""
    cause = trace(ctx, diagnosis.error_class, diagnosis.facts.field)
    if cause is None:
        return diagnosis
    reason = Reason.of(
        f"chain.{cause.reason}",
        step=cause.step,
        path=cause.path,
        found=cause.found,
        failed=ctx.step_name or "?",
    )
    return diagnosis.model_copy(update={"root_cause": cause}).with_reasons(reason, lang=lang)


def trace(ctx: ErrorContext, error_class: ErrorClass, field: str | None) -> RootCause | None:
    """The earlier step to blame for `ctx`'s failure, or None (not a data error, or no
    chain in the failing step's parameters leads to a bad value)."""
    if not _data_caused(ctx, error_class):
        return None
    context = ctx.execution_context
    step_doc, outputs = context.get("step"), context.get("outputs")
    if not isinstance(step_doc, Mapping) or not isinstance(outputs, Mapping) or not outputs:
        return None
    findings = [f for use in uses(step_doc.get("with")) if (f := check(use, outputs, field))]
    if not findings:
        return None
    if field:
        fed = [f for f in findings if _feeds(f.cause.field or "", field)]
        if fed:
            return fed[0].cause
    if ctx.error_type in INPUT_ERRORS:
        blocking = [f for f in findings if f.blocking]
        return (blocking or findings)[0].cause
    return None if field else findings[0].cause


def _data_caused(ctx: ErrorContext, error_class: ErrorClass) -> bool:
    return (
        ctx.error_type in INPUT_ERRORS
        or error_class in DATA_CLASSES
        or (error_class is ErrorClass.UNKNOWN and ctx.status_code in DATA_STATUSES)
    )


def _feeds(param: str, field: str) -> bool:
    """True when parameter `param` (`json.contact.email`) is the field the error named."""
    return param == field or param.endswith("." + field) or param.endswith("]" + field)


def uses(params: Any) -> list[Use]:
    """Every maximal `steps.X.output…` chain in the step's templates, in order."""
    found: list[Use] = []
    for param, source in _strings(params, ""):
        if not is_template(source):
            continue
        try:
            tree = parse(source)
        except TemplateError:
            continue
        chains = [
            c for node in tree.find_all((nodes.Getattr, nodes.Getitem)) if (c := _chain(node))
        ]
        for chain in chains:
            longer = any(o[: len(chain)] == chain and len(o) > len(chain) for o in chains)
            if not longer and chain not in [
                (u.step, *u.segments) for u in found if u.param == param
            ]:
                found.append(Use(param, str(chain[0]), tuple(chain[2:])))
        if len(found) >= MAX_USES:
            break
    return found[:MAX_USES]


def check(use: Use, outputs: Mapping[str, Any], field: str | None) -> Finding | None:
    """Follow `use` through the step outputs; the first bad link, or None."""
    if use.step not in outputs:
        return None  # a step that never ran: the workflow's own mistake, not a chain
    value: Any = outputs[use.step]
    path = f"steps.{use.step}.output"
    for segment in use.segments:
        broken = _step_into(use, value, path, segment)
        if broken is not None:
            return broken
        value, path = value[segment], _join(path, segment)
    if value is None:
        return _finding(use, path, "null", value, blocking=False)
    if isinstance(value, str | list | dict) and not value:
        return _finding(use, path, "empty", value, blocking=False)
    if isinstance(value, Mapping) and field:
        return _missing_in_object(use, value, path, field)
    return None


def _step_into(use: Use, value: Any, path: str, segment: str | int) -> Finding | None:
    """Why `value[segment]` cannot be taken, or None when it can."""
    if value is None:
        return _finding(use, path, "null", value, blocking=True)
    if isinstance(value, Mapping):
        if segment in value:
            return None
        return _finding(use, _join(path, segment), "missing_key", None, blocking=True)
    if not isinstance(value, list):
        return _finding(use, path, "wrong_type", value, blocking=True)
    if not isinstance(segment, int):
        return _finding(use, path, "wrong_type", value, blocking=True)
    if -len(value) <= segment < len(value):
        return None
    if not value:
        return _finding(use, path, "empty", value, blocking=True)
    return _finding(use, _join(path, segment), "missing_key", None, blocking=True)


def _missing_in_object(use: Use, value: Mapping[str, Any], path: str, field: str) -> Finding | None:
    """The whole object was passed on and the service named a key it lacks."""
    if field.startswith(use.param + "."):
        rest = field[len(use.param) + 1 :]
    elif use.param in BODY_PARAMS:
        rest = field
    else:
        return None
    missing = _first_missing(value, rest.split("."))
    if missing is None:
        return None
    fed = Use(f"{use.param}.{'.'.join(missing)}", use.step, use.segments)
    return _finding(fed, _join(path, *missing), "missing_key", None, blocking=False)


def _first_missing(value: Mapping[str, Any], keys: list[str]) -> list[str] | None:
    walked: list[str] = []
    for key in keys:
        if not isinstance(value, Mapping) or not IDENTIFIER.match(key):
            return None
        walked.append(key)
        if key not in value:
            return walked
        value = value[key]
    return None


def _finding(use: Use, path: str, reason: str, value: Any, blocking: bool) -> Finding:
    found = "" if reason == "missing_key" else _type_name(value)
    cause = RootCause(step=use.step, path=path[:300], reason=reason, found=found, field=use.param)  # type: ignore[arg-type]
    return Finding(cause, blocking)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "object"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "list"}.get(
        type(value), "value"
    )


def _join(path: str, *segments: str | int) -> str:
    for segment in segments:
        if isinstance(segment, int):
            path += f"[{segment}]"
        elif IDENTIFIER.match(segment):
            path += f".{segment}"
        else:
            path += "[" + repr(segment[:40]) + "]"
    return path


def _chain(node: nodes.Node) -> tuple[str | int, ...] | None:
    """`steps.fetch.output.json['id']` → ("fetch", "output", "json", "id"), else None."""
    found = variable_chain(node)
    if found is None or found[0] != "steps":
        return None
    chain = tuple(found[1])
    if any(isinstance(s, bool) or not isinstance(s, str | int) for s in chain):
        return None
    ok = len(chain) >= 2 and chain[1] == "output" and isinstance(chain[0], str)
    return chain if ok and IDENTIFIER.match(str(chain[0])) else None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(parameter path, text) for every string, with the renderer's path spelling."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
