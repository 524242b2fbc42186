"""The Jinja2 sandbox Kyra renders templates in, and the checks run before it.

Jinja's `ImmutableSandboxedEnvironment`, plus: no loader (so no include, import or
extends), no globals but `range` and `dict`, no dunder or `_private` attributes, no
frame/function internals (`mro`, `f_globals`, ...), no Flask-style gadget names
(`config`, `lipsum`, `cycler`, `self`), and `*`/`**` bounded against memory bombs.
Unsafe access raises instead of returning an undefined, so `| default(...)` cannot
hide it. The same rules are checked statically (`check_template`) so `kyra validate`
reports them before a run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, Literal

import jmespath
from jinja2 import ChainableUndefined, StrictUndefined, nodes
from jinja2 import TemplateSyntaxError as JinjaSyntaxError
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

from kyra.errors import TemplateError
from kyra.workflows.dates import parse_date

MAX_TEMPLATE_LENGTH = 65_536
MAX_SEQUENCE_PRODUCT = 1_000_000
"""`'a' * n` and `[x] * n` may build at most this many items (memory exhaustion)."""
MAX_EXPONENT = 1_000

MESSAGES = {
    "failed": "template {template!r} failed: {reason}",
    "syntax": "{reason}",
    "unsafe": "template tried to access an unsafe attribute {name!r}; templates may only "
    "read inputs, steps, secrets, env and now",
    "unsafe_call": "template tried to access an unsafe attribute or call: {reason}",
    "no_include": "include, import and extends are not available in workflow templates",
    "too_long": "a template has at most {limit} characters",
    "unknown_secret": "unknown secret {name!r}",
    "secret_unreadable": "secret {name!r} could not be read: {reason}",
    "undefined_root": "{name} is undefined (templates can use inputs, steps, secrets, env and now)",
    "undefined_step": "{path} is undefined (no step {name!r} ran before this one)",
    "undefined_input": "{path} is undefined (the workflow has no input {name!r})",
    "undefined_env": "{path} is undefined (the variable is not set, or is hidden because "
    "its name looks like a credential)",
    "undefined_key": "{path} is undefined ({parent} has no key {name!r})",
    "undefined_index": "{path} is undefined ({parent} has {size} items)",
    "too_big": "the result of {operator!r} would be too large",
    "naive_now": "now must be a timezone-aware datetime",
    "not_json": "a {kind} cannot be converted to JSON",
}

_UNSAFE_ATTRIBUTES = frozenset(
    {
        *("mro", "func_globals", "func_code", "func_closure", "func_defaults", "func_dict"),
        *("f_globals", "f_locals", "f_builtins", "f_code", "f_back", "tb_frame", "tb_next"),
        *("gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await"),
        *("ag_frame", "ag_code", "co_code", "im_class", "im_func", "im_self"),
    }
)
_UNSAFE_NAMES = frozenset(
    {
        *("self", "config", "request", "session", "lipsum", "cycler", "joiner"),
        *("namespace", "url_for", "get_flashed_messages", "__builtins__"),
    }
)
_ATTRIBUTE_FILTERS = frozenset(
    {"attr", "map", "selectattr", "rejectattr", "sort", "groupby", "sum", "unique", "min"}
    | {"max", "dictsort"}
)

ProblemKind = Literal["syntax", "unsafe", "render", "secret"]


class TemplateProblem(TemplateError):
    """A template error with its fields, so callers never parse the message."""

    def __init__(
        self,
        reason: str,
        *,
        kind: ProblemKind,
        template: str | None = None,
        path: str | None = None,
        lineno: int | None = None,
    ) -> None:
        self.reason = reason
        self.kind = kind
        self.template = template
        self.path = path
        self.lineno = lineno
        message = reason
        if template is not None and kind != "syntax":
            excerpt = template if len(template) <= 80 else template[:77] + "..."
            message = MESSAGES["failed"].format(template=excerpt, reason=reason)
        if path:
            message = f"{path}: {message}"
        super().__init__(message)

    def located(self, template: str, path: str | None) -> TemplateProblem:
        """The same problem, naming the template and parameter path it happened in."""
        return TemplateProblem(
            self.reason,
            kind=self.kind,
            template=self.template or template,
            path=self.path or path,
            lineno=self.lineno,
        )


def _unsafe(name: str) -> TemplateProblem:
    return TemplateProblem(MESSAGES["unsafe"].format(name=name), kind="unsafe")


class _Undefined(ChainableUndefined, StrictUndefined):
    """Fails when used (strict), but `a.b.c | default(x)` works when `a` is missing."""

    __slots__ = ()


def check_undefined(value: Any) -> None:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()


def _jmespath_filter(value: Any, expression: str) -> Any:
    check_undefined(value)
    try:
        return jmespath.search(expression, value)
    except jmespath.exceptions.JMESPathError as exc:
        raise ValueError(f"jmespath expression {expression!r} is invalid: {exc}") from exc


def _strftime_filter(value: Any, fmt: str = "%Y-%m-%d") -> str:
    check_undefined(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str):
        value = parse_date(value)
    if not isinstance(value, date):
        raise TypeError(f"strftime needs a date, got {type(value).__name__}")
    return value.strftime(fmt)


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(MESSAGES["not_json"].format(kind=type(value).__name__))


def _tojson_filter(value: Any, indent: int | None = None) -> str:
    # Jinja's own tojson escapes <, > and & for HTML; request bodies want plain JSON.
    check_undefined(value)
    return json.dumps(value, ensure_ascii=False, indent=indent, default=_json_default)


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, refusing loudly instead of returning an undefined."""

    intercepted_binops = frozenset({"*", "**"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return attr not in _UNSAFE_ATTRIBUTES and super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        # Raise rather than return an undefined: `x.__class__ | default(1)` must not
        # quietly succeed.
        raise _unsafe(attribute)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise TemplateProblem(MESSAGES["too_big"].format(operator="**"), kind="render")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                sized = isinstance(sequence, str | list | tuple) and isinstance(count, int)
                if sized and len(sequence) * count > MAX_SEQUENCE_PRODUCT:
                    raise TemplateProblem(MESSAGES["too_big"].format(operator="*"), kind="render")
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        # JSON keys win over dict methods: `output.json.items` is the API's `items`
        # list, not `dict.items`. Data keys are data, so this widens nothing.
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


@cache
def environment() -> _Sandbox:
    """The one sandbox configuration; stateless, so sharing it is safe."""
    env = _Sandbox(
        undefined=_Undefined,
        autoescape=False,
        loader=None,
        keep_trailing_newline=True,  # a template must not change the text around it
    )
    env.globals.clear()
    env.globals.update({"range": safe_range, "dict": dict})
    env.filters.update(
        {
            "jmespath": _jmespath_filter,
            "strftime": _strftime_filter,
            "date": _strftime_filter,
            "tojson": _tojson_filter,
        }
    )
    return env


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def _unsafe_attribute(name: str) -> bool:
    return name.startswith("_") or name in _UNSAFE_ATTRIBUTES


def _check_tree(tree: nodes.Template) -> None:
    """Refuse what the runtime sandbox would also refuse, but at load time."""
    if any(True for _ in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport))):
        raise TemplateProblem(MESSAGES["no_include"], kind="syntax")
    if any(True for _ in tree.find_all(nodes.Extends)):
        raise TemplateProblem(MESSAGES["no_include"], kind="syntax")
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx != "load"}
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name, nodes.Filter)):
        name = _unsafe_name_in(node, assigned)
        if name is not None:
            raise _unsafe(name)


def _unsafe_name_in(node: nodes.Node, assigned: set[str]) -> str | None:
    """The unsafe attribute or name this node reaches with a constant, if any."""
    candidates: list[str] = []
    if isinstance(node, nodes.Getattr):
        candidates.append(node.attr)
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        key = node.arg.value
        # Data keys may start with one underscore (`_id`); only dunders are refused.
        if isinstance(key, str) and (key.startswith("__") or key in _UNSAFE_ATTRIBUTES):
            return key
    elif isinstance(node, nodes.Name):
        is_gadget = node.ctx == "load" and node.name in _UNSAFE_NAMES
        return node.name if is_gadget and node.name not in assigned else None
    elif isinstance(node, nodes.Filter) and node.name in _ATTRIBUTE_FILTERS:
        for argument in [*node.args, *(kw.value for kw in node.kwargs)]:
            if isinstance(argument, nodes.Const) and isinstance(argument.value, str):
                candidates.extend(argument.value.split("."))
    return next((name for name in candidates if _unsafe_attribute(name)), None)


def parse(source: str) -> nodes.Template:
    if len(source) > MAX_TEMPLATE_LENGTH:
        raise TemplateProblem(MESSAGES["too_long"].format(limit=MAX_TEMPLATE_LENGTH), kind="syntax")
    try:
        tree = environment().parse(source)
    except JinjaSyntaxError as exc:
        raise TemplateProblem(
            MESSAGES["syntax"].format(reason=exc.message or str(exc)),
            kind="syntax",
            lineno=exc.lineno,
        ) from None
    _check_tree(tree)
    return tree


def check_template(source: str) -> None:
    """Raise TemplateProblem (a TemplateError) if `source` would never render.

    Catches syntax errors, include/import/extends and unsafe attribute access, so
    `kyra validate` reports them before any run.
    """
    if is_template(source):
        parse(source)
