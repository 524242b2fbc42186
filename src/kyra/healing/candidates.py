"""Values a person may pick for a field only they know (a YELLOW missing-field proposal).

Kyra never proposes an empty default: approving `""` for a required field fails again
and re-proposes the same. Instead it gathers candidates from what the workflow already
has — its inputs, the outputs of the steps that ran before, values that worked in
earlier runs — and from the error text (the allowed values a service lists, the format
it expects). Every candidate is only offered: a person approves it, and it goes through
the same bounded `SetFieldDefault` validation as any value. When there is none, the
proposal asks for one, and approving it without `--value` is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from kyra.engine.error_context import ErrorContext
from kyra.errors import ValueRequired
from kyra.i18n import Catalog, Lang, translate
from kyra.redaction import MASK

MAX_CANDIDATES = 6
SAFE_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:+/-]{0,63}$")
"""An allowed value read from error text: a short plain token, never free text."""
_ALLOWED = re.compile(
    r"(?:one of|allowed values?(?: are| is)?|valid values?(?: are| is)?|possible values?"
    r"(?: are)?|uno de|valores permitidos)\s*[:=]?\s*[\[({]?\s*([^\])}\n]{1,300})",
    re.IGNORECASE,
)
_FORMAT = re.compile(
    r"(?:expected format|format(?: must be| should be)?|expected|must be a valid|"
    r"must be an?|formato)\s*[:=]?\s*['\"]?([A-Za-z%][\w%:./ -]{1,39}?)['\"]?(?=[\s,;)]|$)",
    re.IGNORECASE,
)
Scalar = str | int | float | bool


@dataclass(frozen=True)
class Candidate:
    value: Scalar
    source: str
    """Where it came from: `inputs.email`, `steps.lookup.output.email`, `error`, `history`,
    `default`."""


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _scalar(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip() != "" and value != MASK and "{{" not in value and len(value) <= 500
    return isinstance(value, int | float | bool)


def _leaves(value: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    if depth > 6 or not isinstance(value, Mapping):
        return
    for key, item in value.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, Mapping):
            yield from _leaves(item, path, depth + 1)
        else:
            yield path, item


def allowed_values(text: str) -> list[str]:
    """The allowed values a service lists in its error ("must be one of: basic, pro")."""
    found: list[str] = []
    for match in _ALLOWED.finditer(text or ""):
        for part in re.split(r",|\||/|\s+or\s+|\s+o\s+", match.group(1)):
            token = part.strip().strip("'\"`.").strip()
            if SAFE_TOKEN.match(token) and token not in found:
                found.append(token)
    return found[:MAX_CANDIDATES]


def expected_format(text: str, fallback: str | None = None) -> str | None:
    """The format the service expects, as it says it (`email`, `YYYY-MM-DD`), if it does."""
    if fallback:
        return fallback
    match = _FORMAT.search(text or "")
    return match.group(1).strip() if match else None


def field_candidates(
    name: str,
    *,
    inputs: Mapping[str, Any],
    outputs: Mapping[str, Any],
    error_text: str,
    earlier: list[Any],
) -> list[Candidate]:
    """Candidates for field `name`, best first: the workflow's inputs of that name, the
    earlier steps' outputs of that name, the values the error lists, values that worked
    before (`earlier`, the step's configured default first)."""
    want = _norm(name.split(".")[-1])
    found: list[Candidate] = []

    def add(value: Any, source: str) -> None:
        if _scalar(value) and all(c.value != value for c in found):
            found.append(Candidate(value, source))

    for key, value in inputs.items():
        if _norm(str(key)) == want:
            add(value, f"inputs.{key}")
    for step, output in outputs.items():
        for path, value in _leaves(output):
            if _norm(path.split(".")[-1]) == want:
                add(value, f"steps.{step}.output.{path}")
    for value in allowed_values(error_text):
        add(value, "error")
    for value in earlier:
        add(value, "history")
    return found[:MAX_CANDIDATES]


def for_missing_field(
    ctx: ErrorContext, workflow_inputs: Mapping[str, Any], name: str, earlier: list[Any]
) -> list[Candidate]:
    """`field_candidates` from a failure: the run's inputs (else the workflow's default
    inputs), the outputs of the steps that ran before, the error message and body."""
    context = ctx.execution_context
    inputs = context.get("inputs")
    outputs = context.get("outputs")
    return field_candidates(
        name,
        inputs=inputs if isinstance(inputs, dict) else workflow_inputs,
        outputs=outputs if isinstance(outputs, dict) else {},
        error_text=f"{ctx.error_message}\n{ctx.body or ''}",
        earlier=earlier,
    )


def as_json(candidates: list[Candidate]) -> list[dict[str, Any]]:
    return [asdict(c) for c in candidates]


# -- approving ---------------------------------------------------------------------------

TEXT: Catalog = {
    "required": {
        "en": "fix {fix} needs a value for '{field}' that only you know: "
        "kyra fixes approve {fix} --value ...{choices}",
        "es": "la corrección {fix} necesita un valor para '{field}' que solo tú conoces: "
        "kyra fixes approve {fix} --value ...{choices}",
    },
    "choices": {"en": " (candidates: {values})", "es": " (candidatos: {values})"},
    "refused": {
        "en": "fix {fix} needs a value for '{field}' that only a person knows; approve it "
        "with a value (`--value` in the CLI, `value` in the API)",
        "es": "la corrección {fix} necesita un valor para '{field}' que solo una persona "
        "conoce; apruébala con un valor (`--value` en la CLI, `value` en la API)",
    },
}


def value_needed(patch: Mapping[str, Any]) -> str | None:
    """The field of a proposal that has no value yet (None), if any."""
    for op in patch.get("ops") or []:
        if "field" in op and "value" in op and op["value"] in (None, ""):
            return str(op["field"])
    return None


def required_message(
    fix_id: str, field: str, candidates: list[dict[str, Any]], lang: Lang = "en"
) -> str:
    values = ", ".join(str(c.get("value")) for c in candidates[:MAX_CANDIDATES])
    choices = translate(TEXT, "choices", lang, values=values) if values else ""
    return translate(TEXT, "required", lang, fix=fix_id[:8], field=field, choices=choices)


def check_value(fix_id: str, patch: Mapping[str, Any], value: Any) -> None:
    """Refuse an approval that would write an empty value."""
    field = value_needed(patch)
    if field is not None and (value is None or (isinstance(value, str) and not value.strip())):
        reason = translate(TEXT, "refused", "en", fix=fix_id[:8], field=field)
        raise ValueRequired(fix_id, field, reason)


def with_asked(patch: Mapping[str, Any], changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A proposal's preview diff plus the change it asks a person for: a field op with no
    value yet leaves the config unchanged, yet the person must see which value is owed."""
    asked = []
    for op in patch.get("ops") or []:
        if op.get("op") == "set_field_default" and op.get("value") is None:
            where = f"steps.{op['step']}.defaults" if op.get("step") else "defaults"
            asked.append({"path": f"{where}.{op['field']}", "before": None, "after": None})
    known = {c.get("path") for c in changes}
    return [*changes, *(a for a in asked if a["path"] not in known)]
