"""The Jinja2 sandbox Kyra renders templates in, and the checks run before it.

Jinja's `ImmutableSandboxedEnvironment`, plus: no loader (so no include, import or
extends), no globals but `range` and `dict`, no dunder or `_private` attributes, no
frame/function internals (`mro`, `f_globals`, ...), no Flask-style gadget names
(`config`, `lipsum`, `cycler`, `self`), and time and size limits (`_limits.py`): loops,
calls and operators tick a deadline, and the operations that allocate in one step
(`*`, `**`, `+`, `~`, `%`, padding, `replace`, `join`) are bounded before they run.
Unsafe access raises instead of returning an undefined, so `| default(...)` cannot
hide it. The same rules are checked statically (`check_template`) so `kyra validate`
reports them before a run.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, Literal

import jmespath
from jinja2 import ChainableUndefined, StrictUndefined, nodes
from jinja2 import TemplateSyntaxError as JinjaSyntaxError
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

from kyra.errors import TemplateError
from kyra.workflows import _limits
from kyra.workflows.dates import parse_date

MAX_TEMPLATE_LENGTH = 65_536
MAX_TEMPLATE_DEPTH = 48
"""Deepest nesting of a template's syntax tree (filters chained, parentheses, blocks).
Jinja's compiler slows quadratically with depth (300 chained filters: 11 s of CPU) and
Python refuses more than 200 nested parentheses; real templates stay under 15."""

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
    "undefined_env": "{path} is undefined (only variables listed in KYRA_TEMPLATE_ENV are "
    "visible, never KYRA_* nor names that look like credentials)",
    "exhausted": "the template ran out of resources ({kind})",
    "undefined_key": "{path} is undefined ({parent} has no key {name!r})",
    "undefined_index": "{path} is undefined ({parent} has {size} items)",
    "too_deep": "the template is nested too deeply",
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

ProblemKind = Literal["syntax", "unsafe", "render", "secret", "limit"]
"""`limit`: the template ran out of time or size (`_limits.py`)."""


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


def guard_loops(tree: nodes.Template) -> nodes.Template:
    """Make every `for` loop of `tree` iterate `environment.kyra_iterate(items)`, which
    ticks the render budget on each item (Jinja allows no custom node types, so this
    is a call of an environment attribute)."""
    for loop in tree.find_all(nodes.For):
        lineno = loop.iter.lineno
        guard = nodes.EnvironmentAttribute("kyra_iterate", lineno=lineno)
        loop.iter = nodes.Call(guard, [loop.iter], [], None, None, lineno=lineno)
    return tree


class _GuardedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with `~` going through the render budget."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.kyra_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, refusing loudly instead of returning an undefined."""

    code_generator_class = _GuardedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return attr not in _UNSAFE_ATTRIBUTES and super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        # Raise rather than return an undefined: `x.__class__ | default(1)` must not
        # quietly succeed.
        raise _unsafe(attribute)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _limits.check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # Jinja's own signature: double prefixes keep `self`/`context` free as kwargs.
        _limits.check_call(__obj, args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        # Jinja sandboxes `str.format` at attribute access; the width check goes there.
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format", "format_map"):
            _limits.check_format_spec(owner)
        return super().wrap_str_format(value)

    @staticmethod
    def kyra_iterate(iterable: Any) -> Any:
        return _limits.current().iterate(iterable)

    @staticmethod
    def kyra_concat(parts: tuple[Any, ...]) -> str:
        return _limits.check_concat(parts)

    def getattr(self, obj: Any, attribute: str) -> Any:
        # JSON keys win over dict methods: `output.json.items` is the API's `items`
        # list, not `dict.items`. Data keys are data, so this widens nothing.
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


Args = tuple[Any, ...]
FilterCheck = Callable[[Args, dict[str, Any]], Args]
"""Checks a filter's arguments before it runs; returns the arguments to call it with."""


def _widths(name: str) -> FilterCheck:
    def check(args: Args, kwargs: dict[str, Any]) -> Args:
        _limits.check_widths(name, [*args[1:], *kwargs.values()])
        return args

    return check


def _replace_check(args: Args, kwargs: dict[str, Any]) -> Args:
    # do_replace(eval_ctx, s, old, new, count=None)
    if len(args) >= 4:
        _limits.check_replace(_limits.current(), args[1], args[2], args[3])
    return args


def _join_check(args: Args, kwargs: dict[str, Any]) -> Args:
    # do_join(eval_ctx, value, d="", attribute=None); a generator (`map`, `select`) is
    # listed first so its size can be checked before joining.
    if len(args) < 2 or isinstance(args[1], str | Mapping):
        return args
    items = list(args[1]) if not isinstance(args[1], list | tuple) else args[1]
    separator = args[2] if len(args) > 2 else kwargs.get("d", "")
    _limits.check_join(_limits.current(), separator, items)
    return (args[0], items, *args[2:])


def _format_check(args: Args, kwargs: dict[str, Any]) -> Args:
    if args and isinstance(args[0], str):
        _limits.check_percent_format(args[0])
    return args


def _text_input(name: str, position: int) -> FilterCheck:
    """Filters that walk their text in Python (slow per character) take at most
    `_limits.MAX_SLOW_TEXT` characters."""

    def check(args: Args, kwargs: dict[str, Any]) -> Args:
        if len(args) > position:
            _limits.check_slow_input(name, args[position])
        return args

    return check


def _both(first: FilterCheck, second: FilterCheck) -> FilterCheck:
    return lambda args, kwargs: second(first(args, kwargs), kwargs)


_FILTER_CHECKS: dict[str, FilterCheck] = {
    "center": _widths("center"),
    "indent": _both(_widths("indent"), _text_input("indent", 0)),
    "batch": _widths("batch"),
    "slice": _widths("slice"),
    "wordwrap": _both(_widths("wordwrap"), _text_input("wordwrap", 1)),
    "urlize": _text_input("urlize", 1),
    "pprint": _text_input("pprint", 0),
    "replace": _replace_check,
    "join": _join_check,
    "format": _format_check,
}
"""Filters that allocate in proportion to an argument, or walk their input in Python,
checked before they run."""


def _checked(function: Callable[..., Any], check: FilterCheck | None) -> Callable[..., Any]:
    """Every filter: one tick of the budget, its own check, and a lazy result (`map`,
    `select`, `batch`) iterated through the budget, so a chain of a thousand `map`s over
    a long list is still stopped at the deadline."""

    @functools.wraps(function)  # keeps Jinja's pass_eval_context marker
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        budget = _limits.current()
        budget.tick()
        if check is not None:
            args = check(args, kwargs)
        result = function(*args, **kwargs)
        if isinstance(result, Iterator):
            return budget.iterate(result)
        return result

    return wrapper


def _tojson_checked(value: Any, indent: int | None = None) -> str:
    if indent is not None:
        _limits.check_widths("tojson", [indent])
    return _tojson_filter(value, indent)


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
            "tojson": _tojson_checked,
        }
    )
    for name, function in list(env.filters.items()):
        env.filters[name] = _checked(function, _FILTER_CHECKS.get(name))
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


def _check_depth(tree: nodes.Template) -> None:
    stack: list[tuple[nodes.Node, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TEMPLATE_DEPTH:
            raise TemplateProblem(MESSAGES["too_deep"], kind="syntax", lineno=node.lineno)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())


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
    except (RecursionError, MemoryError):
        raise TemplateProblem(MESSAGES["too_deep"], kind="syntax") from None
    _check_depth(tree)
    _check_tree(tree)
    return tree


def check_template(source: str) -> None:
    """Raise TemplateProblem (a TemplateError) if `source` would never render.

    Catches syntax errors, include/import/extends and unsafe attribute access, so
    `kyra validate` reports them before any run.
    """
    if is_template(source):
        parse(source)
