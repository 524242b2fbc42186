"""Loading workflow files, with every problem reported as one line a person can act on.

`flow.yaml:14: steps[2].with.url: field required` — file, line, field path in the
user's words, message. Problems are collected (not just the first) and sorted by line.
Reading (YAML/JSON → data + line per path, duplicate keys) lives in `document.py`;
this module validates: the pydantic model, step names, action parameters, templates,
parameter paths and date formats.

The action registry is taken structurally (`ActionCatalog`): `workflows` sits below
`actions` and never imports it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Protocol, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from kyra.errors import WorkflowDefinitionError
from kyra.workflows.dates import validate_strftime
from kyra.workflows.document import (
    MAX_FILE_BYTES,
    MESSAGES,
    Abort,
    Document,
    Loc,
    Problem,
    compose,
    kind_of,
    read_json,
)
from kyra.workflows.model import MIN_INTERVAL_CONTEXT, Workflow
from kyra.workflows.params import parse_path
from kyra.workflows.templating import TemplateProblem, check_template

_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_PYDANTIC_INTERNAL = re.compile(r"^[a-z-]+\[.*\]$")


class ActionCatalog(Protocol):
    """What the loader needs from `kyra.actions.ActionRegistry`."""

    def names(self) -> list[str]: ...

    def __contains__(self, name: object) -> bool: ...

    def get(self, name: str) -> Any: ...


def _suggest(name: str, choices: list[str]) -> str:
    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return MESSAGES["did_you_mean"].format(name=match[0]) if match else ""


def load_workflow_text(
    text: str,
    source: str,
    registry: ActionCatalog | None = None,
    *,
    min_trigger_interval: float | None = None,
) -> Workflow:
    """Parse and validate a workflow written in YAML or JSON (text starting with `{`).
    `min_trigger_interval` (seconds) refuses faster interval triggers: pass
    `KYRA_MIN_TRIGGER_INTERVAL_SECONDS` when a workflow is applied.

    Raises:
        WorkflowDefinitionError: listing every problem, one line each, sorted by line.
    """
    is_json = source.lower().endswith(".json") or text.lstrip().startswith("{")
    try:
        if is_json:
            checked = Document(*read_json(text))
        else:
            data, builder = compose(text)
            checked = Document(data, builder.lines, builder.block_scalars, builder.problems)
    except Abort as abort:
        raise WorkflowDefinitionError(source, [p.render(source) for p in abort.problems]) from None
    workflow = _validate(checked, registry, min_trigger_interval)
    if checked.problems or workflow is None:
        problems = sorted(set(checked.problems))
        raise WorkflowDefinitionError(source, [p.render(source) for p in problems])
    return workflow


def read_document(
    path: str | Path, limit: int, error: type[WorkflowDefinitionError] = WorkflowDefinitionError
) -> str:
    """The text of a document file (UTF-8, BOM allowed, at most `limit` bytes); any
    problem is one `error` naming the file. Shared by every document loader."""
    source = str(path)
    try:
        with Path(path).open("rb") as file:  # never more than the limit: /dev/zero, a
            raw = file.read(limit + 1)  # multi-gigabyte log passed by mistake, a FIFO
        if len(raw) > limit:
            raise error(source, [f"{source}: {MESSAGES['too_big'].format(limit=limit)}"])
        return raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise error(source, [f"{source}: {MESSAGES['read'].format(reason=reason)}"]) from None


def load_workflow_file(
    path: str | Path,
    registry: ActionCatalog | None = None,
    *,
    min_trigger_interval: float | None = None,
) -> Workflow:
    """Read a `.yaml`, `.yml` or `.json` workflow file; see `load_workflow_text`."""
    text = read_document(path, MAX_FILE_BYTES)
    return load_workflow_text(text, str(path), registry, min_trigger_interval=min_trigger_interval)


def format_problems(error: WorkflowDefinitionError) -> str:
    """The error as the CLI prints it: a header, then one indented line per problem."""
    count = len(error.problems)
    header = MESSAGES["header"].format(
        source=error.source, count=count, plural="" if count == 1 else "s"
    )
    return "\n".join([header, *(f"  {problem}" for problem in error.problems)])


def _validate(
    checked: Document, registry: ActionCatalog | None, min_trigger_interval: float | None
) -> Workflow | None:
    data = checked.data
    if not isinstance(data, dict):
        checked.add((), MESSAGES["not_mapping"].format(kind=kind_of(data)))
        return None
    duplicate_steps = _check_step_names(checked)
    _check_paths_and_formats(checked)
    _check_steps(checked, registry)
    try:
        return Workflow.model_validate(data, context={MIN_INTERVAL_CONTEXT: min_trigger_interval})
    except ValidationError as exc:
        for error in exc.errors():
            if error["loc"] == () and error["type"] == "value_error" and duplicate_steps:
                continue  # already reported, with lines, by _check_step_names
            _add_pydantic_error(checked, error)
    return None


def _add_pydantic_error(checked: Document, error: Mapping[str, Any]) -> None:
    loc: Loc = tuple(
        "with" if part == "with_" else part
        for part in error["loc"]
        if not (isinstance(part, str) and (part == "[key]" or _PYDANTIC_INTERNAL.match(part)))
    )
    kind = error["type"]
    if kind == "missing":
        message = MESSAGES["required"]
    elif kind == "extra_forbidden":
        message = MESSAGES["unknown_field"] + _suggest(str(loc[-1]), _fields_at(Workflow, loc[:-1]))
    elif kind in _EXPECTED:
        expected, got = _EXPECTED[kind], kind_of(error["input"])
        message = MESSAGES["expected"].format(expected=expected, kind=got)
    elif kind == "value_error":
        message = str(error["ctx"]["error"])
        loc = _refine(checked, loc, message)
    else:
        message = error["msg"]
        if message.startswith("Input should be "):
            message = "must be " + message.removeprefix("Input should be ")
        message = message[0].lower() + message[1:]
        if isinstance(error["input"], str | int | float) and len(str(error["input"])) < 40:
            message += f" (got {error['input']!r})"
    checked.add(loc, message)


def _refine(checked: Document, loc: Loc, message: str) -> Loc:
    """Point a model-level error at the one field of the mapping its message names
    (`trigger` → `trigger.cron` for "invalid cron expression")."""
    value = checked.at(loc)
    if not isinstance(value, dict):
        return loc
    named = [key for key in value if re.search(rf"\b{re.escape(key)}\b", message)]
    return (*loc, named[0]) if len(named) == 1 else loc


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names (as the user writes them) of the model found at `loc`, for hints."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {(f.alias or name): f for name, f in annotation.model_fields.items()}
            if part not in fields:
                return []
            annotation = fields[str(part)].annotation
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or name for name, f in annotation.model_fields.items()]
    return []


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, UnionType):
        options = [arg for arg in get_args(annotation) if arg is not NoneType]
        if len(options) == 1:
            return options[0]
    return annotation


def _steps(checked: Document) -> list[tuple[int, dict[str, Any]]]:
    steps = checked.data.get("steps")
    if not isinstance(steps, list):
        return []
    return [(i, step) for i, step in enumerate(steps) if isinstance(step, dict)]


def _check_step_names(checked: Document) -> bool:
    first_index: dict[str, int] = {}
    found = False
    for index, step in _steps(checked):
        name = step.get("name")
        if not isinstance(name, str):
            continue
        if name in first_index:
            message = MESSAGES["duplicate_step"].format(name=name, first=first_index[name])
            checked.add(("steps", index, "name"), message)
            found = True
        else:
            first_index[name] = index
    return found


def _configs(checked: Document) -> list[tuple[Loc, dict[str, Any]]]:
    configs: list[tuple[Loc, dict[str, Any]]] = []
    if isinstance(checked.data.get("config"), dict):
        configs.append((("config",), checked.data["config"]))
    for index, step in _steps(checked):
        if isinstance(step.get("config"), dict):
            configs.append((("steps", index, "config"), step["config"]))
    return configs


def _check_paths_and_formats(checked: Document) -> None:
    """Default and normaliser paths and date formats fail at load time, not mid-run."""
    for loc, config in _configs(checked):
        defaults = config.get("defaults")
        for key in defaults if isinstance(defaults, dict) else ():
            _check(checked, (*loc, "defaults", key), parse_path, key)
        if isinstance(config.get("date_format"), str):
            _check(checked, (*loc, "date_format"), validate_strftime, config["date_format"])
        normalisers = config.get("date_normalisers")
        for i, normaliser in enumerate(normalisers if isinstance(normalisers, list) else []):
            if not isinstance(normaliser, dict):
                continue
            here = (*loc, "date_normalisers", i)
            if isinstance(normaliser.get("field"), str):
                _check(checked, (*here, "field"), parse_path, normaliser["field"])
            if isinstance(normaliser.get("format"), str):
                _check(checked, (*here, "format"), validate_strftime, normaliser["format"])


def _check(checked: Document, loc: Loc, check: Any, value: str) -> None:
    try:
        check(value)
    except ValueError as exc:
        checked.add(loc, MESSAGES["bad_path"].format(reason=exc))


def _check_steps(checked: Document, registry: ActionCatalog | None) -> None:
    workflow_defaults = _default_roots(checked.data.get("config"))
    for index, step in _steps(checked):
        params = step.get("with")
        if isinstance(params, dict):
            _check_templates(checked, ("steps", index, "with"), params)
        action = step.get("action")
        if registry is None or not isinstance(action, str):
            continue
        if action not in registry:
            names = registry.names()
            hint = _suggest(action, names)
            if not hint and len(names) <= 12:
                hint = MESSAGES["available"].format(names=", ".join(names))
            message = MESSAGES["unknown_action"].format(name=action) + hint
            checked.add(("steps", index, "action"), message)
            continue
        defaults = workflow_defaults | _default_roots(step.get("config"))
        given = params if isinstance(params, dict) else {}
        _check_params(checked, index, action, registry.get(action).Params, given, defaults)


def _default_roots(config: Any) -> set[str]:
    defaults = config.get("defaults") if isinstance(config, dict) else None
    return {str(k).split(".")[0] for k in defaults} if isinstance(defaults, dict) else set()


def _check_params(
    checked: Document,
    index: int,
    action: str,
    params_model: type[BaseModel],
    given: dict[str, Any],
    defaults: set[str],
) -> None:
    """Presence and unknown keys only: values may be templates, typed after rendering."""
    base: Loc = ("steps", index, "with")
    accepted: dict[str, str] = {}
    for name, field in params_model.model_fields.items():
        accepted[name] = name
        if field.alias:
            accepted[field.alias] = name
        if field.is_required():
            spelled = field.alias or name
            if not ({name, spelled} & (given.keys() | defaults)):
                checked.add((*base, spelled), MESSAGES["required"])
    if params_model.model_config.get("extra") != "forbid":
        return
    for key in given:
        if key not in accepted:
            hint = _suggest(key, sorted(accepted))
            checked.add((*base, key), MESSAGES["unknown_param"].format(action=action) + hint)


def _check_templates(checked: Document, loc: Loc, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _check_templates(checked, (*loc, key), item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_templates(checked, (*loc, i), item)
    elif isinstance(value, str):
        try:
            check_template(value)
        except TemplateProblem as exc:
            line = checked.line(loc)
            if line and exc.lineno:
                # A block scalar's text starts on the line after its key.
                line += exc.lineno - (0 if loc in checked.block_scalars else 1)
            checked.add(loc, MESSAGES["template"].format(reason=exc.reason), line=line)


__all__ = [
    "ActionCatalog",
    "Problem",
    "format_problems",
    "load_workflow_file",
    "load_workflow_text",
]
