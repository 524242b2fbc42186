"""Sandboxed Jinja2 rendering of step parameters.

Templates are written by workflow authors, but they run inside the engine process next
to every secret, so they get Jinja's immutable sandbox plus Kyra's own checks: no
loader (no include/import/extends), no Python internals (dunder and `_private`
attributes, `mro`, frame and function attributes, Flask-style gadgets such as `config`
or `lipsum`), bounded `*` and `**`. Step outputs are data, never templates: a remote
service cannot inject template code. Compiled templates are cached by source.

Variables: `inputs`, `steps` (`steps.fetch.output.json.id`), `secrets` (resolved
lazily and recorded, so the engine can redact every value used), `env` (only the
names the operator allows, see `template_environ`) and `now` (timezone-aware, given by
the caller). The sandbox rules live in `_sandbox.py`; the time and size limits (and why
they are a cooperative deadline rather than a watchdog thread) in `_limits.py`.

Whatever a template does, rendering raises `TemplateProblem` and nothing else: a
template that runs out of memory or recursion fails its step, it never crashes the
worker that renders it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Template, nodes
from jinja2 import TemplateSyntaxError as JinjaSyntaxError
from jinja2.environment import TemplateExpression
from jinja2.exceptions import SecurityError, UndefinedError

from kyra.errors import SecretError
from kyra.workflows import _limits
from kyra.workflows._limits import LimitExceeded, RenderLimits
from kyra.workflows._sandbox import (
    MESSAGES,
    TemplateProblem,
    check_template,
    check_undefined,
    environment,
    guard_loops,
    is_template,
    parse,
)

# Why env is an allowlist: the operator's environment holds database URLs, webhook URLs
# and keys under any name, and env values are not recorded like `secrets`, so a value
# read through `env` would escape redaction into logs, error contexts and LLM prompts.
# Only names the operator lists in KYRA_TEMPLATE_ENV are visible; even then Kyra's own
# settings (KYRA_*) and names that look like credentials stay hidden: credentials go
# through `secrets`.
HIDDEN_ENV = re.compile(r"(?i)(secret|passw|token|api_?key|private|credential|^KYRA_)")

_BUILTIN_NAMES = frozenset({"loop", "range", "dict", "caller", "varargs", "kwargs"})
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{-?(.*?)-?\}\}\s*$", re.DOTALL)


class TemplateEnv(dict[str, str]):
    """The variables templates see as `env`, built by `template_environ`."""


def template_environ(environ: Mapping[str, str], allowed: Iterable[str] = ()) -> TemplateEnv:
    """The allowed names of `environ` (`KYRA_TEMPLATE_ENV`), minus `KYRA_*` and names
    that look like credentials (see `HIDDEN_ENV`). Nothing is allowed by default."""
    if isinstance(environ, TemplateEnv):
        return environ
    names = {name for name in allowed if not HIDDEN_ENV.search(name)}
    return TemplateEnv((key, environ[key]) for key in sorted(names) if key in environ)


class _SecretLookup:
    """What templates see as `secrets`: item lookup only, no methods to reach."""

    __slots__ = ("_resolve",)

    def __init__(self, resolve: Callable[[str], str]) -> None:
        self._resolve = resolve

    def __getitem__(self, name: str) -> str:
        return self._resolve(name)

    def __repr__(self) -> str:
        return "<secrets>"


@dataclass
class TemplateContext:
    """The variables of one step's rendering; records the secret values it used."""

    now: datetime
    inputs: Mapping[str, Any] = field(default_factory=dict)
    steps: Mapping[str, Any] = field(default_factory=dict)
    """Step name → `{"output": ...}` for every step that ran before this one."""
    secrets: Mapping[str, str] | Callable[[str], str | None] | None = None
    """Secret values by name, or a resolver called once per name used (None or
    KeyError means unknown); a resolver keeps unused secrets undecrypted."""
    env: Mapping[str, str] = field(default_factory=dict)
    """A `TemplateEnv` from `template_environ`; any other mapping is treated as an
    environment with nothing allowed (empty)."""
    used_secrets: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError(MESSAGES["naive_now"])
        self.env = template_environ(self.env)
        self._lookup = _SecretLookup(self.secret)

    def secret(self, name: str) -> str:
        """The secret's value, resolved once and recorded for redaction."""
        if name in self.used_secrets:
            return self.used_secrets[name]
        try:
            if isinstance(self.secrets, Mapping):
                value = self.secrets.get(name)
            else:
                value = self.secrets(name) if self.secrets is not None else None
        except LookupError:
            value = None
        except SecretError as exc:
            raise TemplateProblem(
                MESSAGES["secret_unreadable"].format(name=name, reason=exc), kind="secret"
            ) from exc
        if value is None:
            raise TemplateProblem(MESSAGES["unknown_secret"].format(name=name), kind="secret")
        self.used_secrets[name] = value
        return value

    def secret_values(self) -> list[str]:
        """Every secret value rendered so far, for the engine's redactor."""
        return list(self.used_secrets.values())

    def variables(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "steps": self.steps,
            "secrets": self._lookup,
            "env": self.env,
            "now": self.now,
        }


Compiled = Template | TemplateExpression
"""A text template, or a lone `{{ expr }}` compiled to return its native value."""


class TemplateRenderer:
    """Renders step parameters in the sandbox; one instance is shared by all runs.

    Thread-safe: compiled templates are immutable, the LRU cache is locked and each
    rendering's budget lives in a context variable of its own thread.
    """

    def __init__(self, cache_size: int = 4096, limits: RenderLimits | None = None) -> None:
        self._env = environment()
        self.limits = limits or RenderLimits()
        self._compiled: Callable[[str], Compiled] = lru_cache(maxsize=cache_size)(self._compile)

    def _compile(self, source: str) -> Compiled:
        tree = guard_loops(parse(source))
        single = _SINGLE_EXPRESSION.match(source)
        one_output = len(tree.body) == 1 and isinstance(tree.body[0], nodes.Output)
        if single and one_output:
            inner = single.group(1)
            if not any(mark in inner for mark in ("{{", "}}", "{%", "{#")):
                # `{{ expr }}` alone yields the value itself (a dict stays a dict).
                return self._env.compile_expression(inner, False)
        return self._env.from_string(tree)

    def render(self, source: str, context: TemplateContext, path: str | None = None) -> Any:
        """Render one string; plain text comes back untouched without compiling."""
        if not is_template(source):
            return source
        token = _limits.start(self.limits)
        try:
            return self._render(source, context.variables(), path)
        finally:
            _limits.finish(token)

    def render_params(self, params: Any, context: TemplateContext) -> Any:
        """Render every string in nested dicts and lists; other values pass through.
        All of a step's templates share one deadline (`limits.timeout_seconds`).

        Raises:
            TemplateProblem: naming the parameter path, the template and the reason.
        """
        token = _limits.start(self.limits)
        try:
            return self._walk(params, context.variables(), "")
        finally:
            _limits.finish(token)

    def _walk(self, value: Any, variables: dict[str, Any], path: str) -> Any:
        if isinstance(value, str):
            return self._render(value, variables, path) if is_template(value) else value
        if isinstance(value, dict):
            return {
                key: self._walk(item, variables, f"{path}.{key}" if path else str(key))
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self._walk(item, variables, f"{path}[{i}]") for i, item in enumerate(value)]
        return value

    def _render(self, source: str, variables: dict[str, Any], path: str | None) -> Any:
        try:
            compiled = self._compiled(source)
            budget = _limits.current()
            if isinstance(compiled, Template):
                return budget.collect(compiled.generate(variables))
            result = compiled(variables)
            check_undefined(result)
            _limits.check_value_size(result, budget)
            return result
        except TemplateProblem as exc:
            raise exc.located(source, path) from None
        except LimitExceeded as exc:
            raise TemplateProblem(exc.reason, kind="limit", template=source, path=path) from None
        except (MemoryError, RecursionError) as exc:
            reason = MESSAGES["exhausted"].format(kind=type(exc).__name__)
            raise TemplateProblem(reason, kind="limit", template=source, path=path) from None
        except UndefinedError as exc:
            reason = _explain_undefined(source, variables) or str(exc)
            raise TemplateProblem(reason, kind="render", template=source, path=path) from None
        except SecurityError as exc:
            raise TemplateProblem(
                MESSAGES["unsafe_call"].format(reason=exc),
                kind="unsafe",
                template=source,
                path=path,
            ) from None
        except Exception as exc:  # a template's own error (1/0, int('x'), a bad filter)
            raise TemplateProblem(
                str(exc)[:500] or type(exc).__name__, kind="render", template=source, path=path
            ) from exc


def variable_chain(node: nodes.Node) -> tuple[str, list[str | int]] | None:
    """`steps.fetch.output['id']` → ("steps", ["fetch", "output", "id"])."""
    segments: list[str | int] = []
    while True:
        if isinstance(node, nodes.Getattr):
            segments.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            segments.append(node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Name):
            return node.name, segments[::-1]
        else:
            return None


def _explain_undefined(source: str, variables: Mapping[str, Any]) -> str | None:
    """A sentence naming the first missing part of a variable chain in `source`.

    Only runs on the error path, so rendering itself carries no bookkeeping.
    """
    try:
        tree = environment().parse(source)
    except JinjaSyntaxError:
        return None
    skipped = {n.name for n in tree.find_all(nodes.Name) if n.ctx != "load"}
    skipped |= _BUILTIN_NAMES | {"secrets"}
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        chain = variable_chain(node)
        if chain is None or chain[0] in skipped:
            continue
        root, segments = chain
        if root not in variables:
            return MESSAGES["undefined_root"].format(name=root)
        reason = _walk_chain(root, segments, variables[root])
        if reason is not None:
            return reason
    return None


def _walk_chain(root: str, segments: list[str | int], value: Any) -> str | None:
    parent = root
    for position, segment in enumerate(segments):
        label = f"{parent}[{segment}]" if isinstance(segment, int) else f"{parent}.{segment}"
        if isinstance(value, Mapping):
            if segment in value:
                value, parent = value[segment], label
                continue
            if root == "steps" and position == 0:
                shown = f"{label}.output" if segments[1:2] == ["output"] else label
                return MESSAGES["undefined_step"].format(path=shown, name=segment)
            if position == 0 and root in ("inputs", "env"):
                key = "undefined_input" if root == "inputs" else "undefined_env"
                return MESSAGES[key].format(path=label, name=segment)
            return MESSAGES["undefined_key"].format(path=label, parent=parent, name=segment)
        if isinstance(value, list | tuple) and isinstance(segment, int):
            if -len(value) <= segment < len(value):
                value, parent = value[segment], label
                continue
            return MESSAGES["undefined_index"].format(path=label, parent=parent, size=len(value))
        return None  # an object's attribute: Jinja's own message is as good as ours
    return None


__all__ = [
    "HIDDEN_ENV",
    "RenderLimits",
    "TemplateContext",
    "TemplateEnv",
    "TemplateProblem",
    "TemplateRenderer",
    "check_template",
    "template_environ",
    "variable_chain",
]
