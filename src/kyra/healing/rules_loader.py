"""Reading a custom rules file, with every problem as one line a person can act on:

    rules.yaml:14: rules[1].remedy.max_request_delay: cannot widen the bound
    max_request_delay (60 s); a rule may only lower it

YAML is read by the workflow loader's reader (`kyra.workflows.document`: lines per
path, duplicate keys caught, alias expansion bounded); JSON (`.json` or text starting
with `{`) by `json`. Bounds are checked against the global ones of `HealingSettings`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kyra.errors import WorkflowDefinitionError
from kyra.healing._rule_models import MatchSpec, RemedySpec, Rule, RulesDocument
from kyra.healing.rules import global_bounds
from kyra.healing.settings import HealingSettings
from kyra.workflows.document import (
    MAX_FILE_BYTES,
    Abort,
    Document,
    Loc,
    compose,
    kind_of,
    read_json,
)
from kyra.workflows.loader import read_document

MAX_RULES_BYTES = min(MAX_FILE_BYTES, 200_000)
_EXPECTED = {
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
}


class RulesDefinitionError(WorkflowDefinitionError):
    """A rules document is invalid; `problems` lists `file:line: path: message` lines.

    A `WorkflowDefinitionError` so the CLI prints it the same way (one line per problem,
    exit 2)."""


def load_rules_text(
    text: str, source: str, settings: HealingSettings | None = None
) -> RulesDocument:
    """Parse and validate a rules document written in YAML or JSON, against the bounds
    of `settings` (the app's `settings.healing`; default: the spec's).

    Raises:
        RulesDefinitionError: every problem, one line each, sorted by line.
    """
    is_json = source.lower().endswith(".json") or text.lstrip().startswith("{")
    try:
        if is_json:
            checked = Document(*read_json(text))
        else:
            data, builder = compose(text)
            checked = Document(data, builder.lines, builder.block_scalars, builder.problems)
    except Abort as abort:
        raise RulesDefinitionError(source, [p.render(source) for p in abort.problems]) from None
    document = _validate(checked, settings or HealingSettings())
    if checked.problems or document is None:
        problems = sorted(set(checked.problems))
        raise RulesDefinitionError(source, [p.render(source) for p in problems])
    return document


def load_rules_file(
    path: str | Path, settings: HealingSettings | None = None
) -> tuple[RulesDocument, str]:
    """The validated document of a `.yaml`/`.yml`/`.json` file, and its text (stored as
    written, so `kyra rules list` shows the tenant's own comments)."""
    text = read_document(path, MAX_RULES_BYTES, RulesDefinitionError)
    source = str(path)
    return load_rules_text(text, source, settings), text


def _validate(checked: Document, settings: HealingSettings) -> RulesDocument | None:
    if not isinstance(checked.data, dict):
        checked.add(
            (), f"a rules file is a mapping with a 'rules:' list, not {kind_of(checked.data)}"
        )
        return None
    duplicates = _check_names(checked)
    context = {"bounds": global_bounds(settings).as_dict()}
    try:
        return RulesDocument.model_validate(checked.data, context=context)
    except ValidationError as exc:
        for error in exc.errors():
            loc: Loc = tuple(error["loc"])
            if duplicates and loc == ("rules",) and error["type"] == "value_error":
                continue  # already reported, on the line of the second name
            checked.add(loc, _message(error, loc))
    return None


def _check_names(checked: Document) -> bool:
    """Point a reused rule name at its second use (the model only knows the list)."""
    rules = checked.data.get("rules")
    first: dict[str, int] = {}
    found = False
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        name = rule.get("name") if isinstance(rule, dict) else None
        if not isinstance(name, str):
            continue
        if name in first:
            message = f"rule name {name!r} is already used by rules[{first[name]}]"
            checked.add(("rules", index, "name"), message)
            found = True
        first.setdefault(name, index)
    return found


def _message(error: Mapping[str, Any], loc: Loc) -> str:
    kind = error["type"]
    if kind == "missing":
        return "field required"
    if kind == "extra_forbidden":
        fields = _fields_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), fields, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown field{hint}; expected one of: {', '.join(fields)}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {kind_of(error.get('input'))}"
    message = str(error["msg"])
    if message.startswith("Input should be "):
        message = "must be " + message.removeprefix("Input should be ")
    message = message[0].lower() + message[1:]
    value = error.get("input")
    if isinstance(value, str | int | float) and len(str(value)) < 40:
        message += f" (got {kind_of(value)} {value!r})"
    return message


def _fields_at(loc: Loc) -> list[str]:
    """Field names, as written in YAML, of the model at `loc` (for "did you mean")."""
    model: type[BaseModel] = RulesDocument
    if loc and loc[0] == "rules":
        named = [part for part in loc[2:] if isinstance(part, str)]
        last = named[-1] if named else None
        model = MatchSpec if last == "match" else RemedySpec if last == "remedy" else Rule
    return [field.alias or name for name, field in model.model_fields.items()]
