"""Property-based fuzzing of what strangers type into Kyra: workflow documents, templates
and `kyra diagnose` lines. Each target must only ever fail with its documented error;
any other exception (a traceback waiting to happen) is a failure.

    .venv/bin/python bench/fuzz_inputs.py --cases 100000      # split over the 3 targets

Prints the cases run and the failures per target (and the first inputs that failed);
exits 1 if any failed. `tests/workflows/test_fuzz_inputs.py` runs a few hundred cases
of each target on every test run.

    target     input                                  documented outcome
    loader     YAML/JSON text                         a Workflow, or WorkflowDefinitionError
    template   template text (+ a context)            a value, or TemplateError
    diagnose   one JSON line                          an output object (never raises)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kyra.actions import default_registry
from kyra.errors import TemplateError, WorkflowDefinitionError
from kyra.healing.diagnosis.batch import diagnose_line
from kyra.healing.diagnosis.corpus import INPUT_FIELDS
from kyra.healing.diagnosis.engine import Diagnoser
from kyra.workflows.loader import load_workflow_text
from kyra.workflows.templating import (
    RenderLimits,
    TemplateContext,
    TemplateRenderer,
    template_environ,
)

# -- strategies ----------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["30s", "10ms", "1h30m", "* * * * *", "Mars/Olympus", "../../etc/passwd"]),
    st.sampled_from(["{{ inputs.x }}", "{% for i in range(9) %}{% endfor %}", "{{ 9**999 }}"]),
)
_KEYS = st.one_of(
    st.sampled_from(
        [
            *("name", "trigger", "steps", "config", "with", "action", "url", "cron", "interval"),
            *("timezone", "retry", "timeout", "defaults", "headers", "on_error", "inputs"),
        ]
    ),
    st.text(max_size=12),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_KEYS, inner, max_size=6)),
    max_leaves=15,
)
_STEP = st.fixed_dictionaries(
    {
        "name": st.one_of(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), st.text()),
        "action": st.sampled_from(["http_request", "transform", "wait", "send_email", "nope"]),
    },
    optional={"with": st.dictionaries(_KEYS, _JSON, max_size=4), "config": _JSON},
)
_TRIGGER = st.one_of(
    st.sampled_from(["manual", "webhook", None]),
    st.fixed_dictionaries(
        {"cron": st.one_of(st.just("0 * * * *"), st.text(max_size=20))},
        optional={"timezone": st.one_of(st.just("Europe/Madrid"), st.text(max_size=30))},
    ),
    st.fixed_dictionaries({"interval": _SCALARS}),
)
_WORKFLOW = st.fixed_dictionaries(
    {
        "name": st.one_of(st.just("fuzzed"), st.text(max_size=20)),
        "steps": st.lists(_STEP, max_size=3),
    },
    optional={"trigger": _TRIGGER, "config": _JSON, "inputs": _JSON, "description": _SCALARS},
)


def _yaml_text(data: Any) -> str:
    import yaml  # a dependency of kyra; imported here to keep the module's header short

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


_MARKUP = st.sampled_from(
    [
        *("{", "}", "[", "]", ":", "- ", "\n", "  ", "&a", "*a", "!!", "<<:", "%", "#", "'", '"'),
        *("\x00", "\t", "\ufeff", "---", "...", "|", ">", "?", "{{", "}}", "{%", "%}"),
    ]
)


@st.composite
def workflow_texts(draw: st.DrawFn) -> str:
    """Documents: structured ones in YAML or JSON, mangled ones, and raw noise."""
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return draw(st.text(max_size=300))
    document = draw(_WORKFLOW)
    if kind == 1:
        return json.dumps(document, allow_nan=True)
    text = _yaml_text(document)
    if kind == 2:
        return text
    # Mangle: insert markup at random places, or nest very deep.
    if kind == 3:
        for _ in range(draw(st.integers(1, 6))):
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(_MARKUP) + text[at:]
        return text
    depth = draw(st.one_of(st.integers(1, 100), st.sampled_from([1_500, 50_000])))
    opener = draw(st.sampled_from(["[", "{a: ", "- ", '{"a": ']))
    return opener * depth


_EXPR_ATOMS = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(["9", "999", "10**6", "1.5", "'a'", "'{:>9}'", "'%9d'", "[1, 2]", "{'k': 1}"]),
    st.sampled_from(["inputs.x", "inputs.items", "steps.a.output.json", "env", "now", "secrets"]),
    st.sampled_from(["range(9)", "range(100000)", "x", "loop.index", "dict(a=1)", "none"]),
    st.text(alphabet="abc'\"\\{}% ", max_size=8).map(repr),
)
_OPS = st.sampled_from(["+", "-", "*", "**", "/", "//", "%", "~", " and ", " or ", "==", " in "])
_FILTERS = st.sampled_from(
    [
        *("length", "string", "list", "join", "join(',')", "upper", "tojson", "tojson(2)", "sort"),
        *("center(99)", "center(10**9)", "indent(10**7)", "batch(3, 0)", "replace('a', 'bb')"),
        *("format(1)", "int", "float", "sum", "unique", "reverse", "first", "last", "default(1)"),
        *("jmespath('a')", "strftime('%Y')", "wordwrap(5)", "truncate(3)", "round(2)", "abs"),
    ]
)


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 3 or draw(st.integers(0, 2)) == 0:
        expr = draw(_EXPR_ATOMS)
    else:
        left = draw(expressions(depth + 1))
        right = draw(expressions(depth + 1))
        expr = f"({left}{draw(_OPS)}{right})"
    for _ in range(draw(st.integers(0, 2))):
        expr = f"({expr} | {draw(_FILTERS)})"
    if draw(st.integers(0, 5)) == 0:
        expr += draw(st.sampled_from([".upper()", ".center(10**8)", ".__class__", "[0]", ".items"]))
    return expr


@st.composite
def templates(draw: st.DrawFn) -> str:
    """Templates: expressions, loops, macros and sets built from a grammar, plus noise."""
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(
            st.text(alphabet=st.sampled_from(list("{}%#()[]|~*+-'\" abcxi01.\n")), max_size=60)
        )
    expr = draw(expressions())
    if kind == 1:
        return "{{ " + expr + " }}"
    if kind == 2:
        inner = draw(expressions())
        return "{% for x in " + expr + " %}{{ " + inner + " }}{% endfor %}"
    if kind == 3:
        return "{% set x = " + expr + " %}{% for i in range(99) %}{{ x }}{% endfor %}"
    if kind == 4:
        return "{% macro f(n) %}{{ f(n) }}{{ " + expr + " }}{% endmacro %}{{ f(1) }}"
    return "text " + "{{ " + expr + " }} and {{ " + draw(expressions()) + " }}"


_FIELD_VALUES = st.one_of(_SCALARS, _JSON, st.integers(-(10**30), 10**30))


@st.composite
def diagnose_lines(draw: st.DrawFn) -> str:
    """Lines: error objects with the input fields (any values), other JSON, and noise."""
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return draw(st.text(max_size=200))
    if kind == 1:
        return json.dumps(draw(_JSON), allow_nan=True)
    if kind == 2:
        depth = draw(st.one_of(st.integers(1, 100), st.sampled_from([1_500, 50_000])))
        return draw(st.sampled_from(["[", '{"a": ', '{"body": '])) * depth
    keys = st.sampled_from(sorted(INPUT_FIELDS))
    line = draw(st.dictionaries(keys, _FIELD_VALUES, max_size=8))
    return json.dumps(line, allow_nan=True)


# -- targets ------------------------------------------------------------------------------


@dataclass
class Tally:
    """Cases and failures (exceptions outside a target's documented errors) of a target."""

    name: str
    cases: int = 0
    failures: int = 0
    examples: list[str] = field(default_factory=list)

    def failed(self, value: str, exc: BaseException) -> None:
        self.failures += 1
        if len(self.examples) < 5:
            where = traceback.format_exception(exc)[-1].strip()
            self.examples.append(f"{value[:200]!r}: {where[:300]}")


def _run(
    tally: Tally,
    strategy: st.SearchStrategy[str],
    cases: int,
    call: Callable[[str], object],
    documented: tuple[type[Exception], ...] = (),
) -> Tally:
    """Feed `cases` generated values to `call`; count every exception that is not one
    of the `documented` ones as a failure (and keep going)."""

    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value: str) -> None:
        tally.cases += 1
        try:
            call(value)
        except documented:
            pass
        except Exception as exc:
            tally.failed(value, exc)

    run()
    return tally


def fuzz_loader(cases: int) -> Tally:
    registry = default_registry()

    def load(text: str) -> object:
        return load_workflow_text(text, "fuzz.yaml", registry, min_trigger_interval=1.0)

    return _run(Tally("loader"), workflow_texts(), cases, load, (WorkflowDefinitionError,))


def fuzz_templates(cases: int) -> Tally:
    # A short deadline: the grammar writes loops over range(100000) on purpose.
    limits = RenderLimits(timeout_seconds=0.01, max_output_chars=100_000)
    renderer = TemplateRenderer(limits=limits)
    context = TemplateContext(
        now=datetime(2026, 12, 4, tzinfo=UTC),
        inputs={"x": 3, "items": [1, "a", {"k": None}]},
        steps={"a": {"output": {"json": {"a": [1, 2]}}}},
        secrets={"TOKEN": "t0k3n"},
        env=template_environ({"REGION": "eu"}, ["REGION"]),
    )

    def render(source: str) -> object:
        return renderer.render_params({"value": source}, context)

    return _run(Tally("template"), templates(), cases, render, (TemplateError,))


def fuzz_diagnose(cases: int) -> Tally:
    diagnoser = Diagnoser()

    def diagnose(line: str) -> object:
        output, _ = diagnose_line(line, diagnoser)
        return json.dumps(output, ensure_ascii=False)  # what `kyra diagnose` prints next

    return _run(Tally("diagnose"), diagnose_lines(), cases, diagnose)


TARGETS: dict[str, Callable[[int], Tally]] = {
    "loader": fuzz_loader,
    "template": fuzz_templates,
    "diagnose": fuzz_diagnose,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=3_000, help="total, split over targets")
    parser.add_argument("--target", choices=sorted(TARGETS), action="append")
    args = parser.parse_args(argv)
    names = args.target or list(TARGETS)
    per_target = max(1, -(-args.cases // len(names)))  # rounded up: at least --cases in all
    total_cases = total_failures = 0
    for name in names:
        started = time.perf_counter()
        tally = TARGETS[name](per_target)
        seconds = time.perf_counter() - started
        print(f"{name:<9} {tally.cases:>8,} cases  {tally.failures:>4} failures  {seconds:6.1f}s")
        for example in tally.examples:
            print(f"    {example}")
        total_cases += tally.cases
        total_failures += tally.failures
    print(f"{'total':<9} {total_cases:>8,} cases  {total_failures:>4} failures")
    return 1 if total_failures else 0


if __name__ == "__main__":
    sys.exit(main())
