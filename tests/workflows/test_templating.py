from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from kyra.errors import SecretError, TemplateError
from kyra.workflows.templating import (
    RenderLimits,
    TemplateContext,
    TemplateProblem,
    TemplateRenderer,
    check_template,
    template_environ,
)

NOW = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
SECRETS = {"SLACK_URL": "https://hooks.example/T000/B000/XXXX", "TOKEN": "t0k3n"}


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


def make_context(**overrides: Any) -> TemplateContext:
    values: dict[str, Any] = {
        "now": NOW,
        "inputs": {"count": 3, "day": "26/11/2026", "name": "Ana"},
        "steps": {"fetch": {"output": {"status": 200, "json": {"id": 42, "items": [{"d": "a"}]}}}},
        "secrets": SECRETS.get,
        "env": template_environ({"HOME": "/home/kyra", "REGION": "eu"}, ["HOME", "REGION"]),
    }
    values.update(overrides)
    return TemplateContext(**values)


def render(renderer: TemplateRenderer, value: Any, **overrides: Any) -> Any:
    return renderer.render_params(value, make_context(**overrides))


def test_single_expression_returns_native_values(renderer: TemplateRenderer) -> None:
    assert render(renderer, "{{ inputs.count }}") == 3
    assert render(renderer, "{{ steps.fetch.output.json }}") == {
        "id": 42,
        "items": [{"d": "a"}],
    }
    assert render(renderer, "{{ [1, 2] }}") == [1, 2]
    assert render(renderer, "{{ now }}") == NOW


def test_mixed_text_renders_to_a_string(renderer: TemplateRenderer) -> None:
    assert render(renderer, "n={{ inputs.count }}") == "n=3"
    assert render(renderer, "{{ inputs.count }}{{ inputs.count }}") == "33"
    assert render(renderer, "line\n{{ inputs.name }}\n") == "line\nAna\n"


def test_plain_strings_and_other_values_pass_through(renderer: TemplateRenderer) -> None:
    text = "no templates { here } 100%"
    assert render(renderer, text) is text
    assert render(renderer, {"a": 1, "b": None, "c": True}) == {"a": 1, "b": None, "c": True}


def test_nested_params_are_rendered_without_mutating_the_input(renderer: TemplateRenderer) -> None:
    params: dict[str, Any] = {
        "url": "https://api.example/{{ steps.fetch.output.json.id }}",
        "json": {"ids": ["{{ inputs.count }}", "x"], "who": {"name": "{{ inputs.name }}"}},
    }
    rendered = render(renderer, params)
    assert rendered == {
        "url": "https://api.example/42",
        "json": {"ids": [3, "x"], "who": {"name": "Ana"}},
    }
    assert params["json"]["ids"][0] == "{{ inputs.count }}"


def test_json_keys_win_over_dict_methods(renderer: TemplateRenderer) -> None:
    assert render(renderer, "{{ steps.fetch.output.json.items[0].d }}") == "a"


def test_secrets_are_resolved_lazily_and_recorded(renderer: TemplateRenderer) -> None:
    asked: list[str] = []

    def resolve(name: str) -> str | None:
        asked.append(name)
        return SECRETS.get(name)

    context = make_context(secrets=resolve)
    out = renderer.render_params(
        {"a": "{{ secrets.SLACK_URL }}", "b": "Bearer {{ secrets['TOKEN'] }}", "c": "plain"},
        context,
    )
    assert out == {"a": SECRETS["SLACK_URL"], "b": "Bearer t0k3n", "c": "plain"}
    renderer.render_params("{{ secrets.SLACK_URL }}", context)
    assert asked == ["SLACK_URL", "TOKEN"]
    assert context.used_secrets == SECRETS
    assert sorted(context.secret_values()) == sorted(SECRETS.values())


def test_secrets_may_be_a_plain_mapping(renderer: TemplateRenderer) -> None:
    context = make_context(secrets=dict(SECRETS))
    assert renderer.render("{{ secrets.TOKEN }}", context) == "t0k3n"
    assert context.used_secrets == {"TOKEN": "t0k3n"}


def test_unknown_secret_names_it(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateError, match="unknown secret 'MISSING'") as info:
        render(renderer, {"url": "{{ secrets.MISSING }}"})
    assert isinstance(info.value, TemplateProblem)
    assert info.value.kind == "secret"
    assert info.value.path == "url"


def test_unreadable_secret(renderer: TemplateRenderer) -> None:
    def broken(name: str) -> str:
        raise SecretError("wrong key")

    with pytest.raises(TemplateError, match="secret 'X' could not be read: wrong key"):
        render(renderer, "{{ secrets.X }}", secrets=broken)


def test_env_is_an_allowlist_that_never_shows_credentials() -> None:
    environ = {
        "HOME": "/root",
        "AWS_SECRET_ACCESS_KEY": "a",
        "DB_PASSWORD": "b",
        "GITHUB_TOKEN": "c",
        "OPENAI_API_KEY": "d",
        "STRIPE_APIKEY": "e",
        "SSH_PRIVATE": "f",
        "GOOGLE_CREDENTIALS": "g",
        "KYRA_DATABASE_URL": "h",
        "LANG": "C",
    }
    assert template_environ(environ) == {}
    assert template_environ(environ, ["HOME"]) == {"HOME": "/root"}
    everything = template_environ(environ, list(environ))
    assert everything == {"HOME": "/root", "LANG": "C"}
    assert make_context(env=everything).env == {"HOME": "/root", "LANG": "C"}
    # A plain mapping is an environment with nothing allowed.
    assert make_context(env=environ).env == {}


def test_env_and_now(renderer: TemplateRenderer) -> None:
    assert render(renderer, "{{ env.REGION }}-{{ now.year }}") == "eu-2026"
    with pytest.raises(TemplateError, match=r"env.GITHUB_TOKEN is undefined \(only variables"):
        render(renderer, "{{ env.GITHUB_TOKEN }}", env=template_environ({"GITHUB_TOKEN": "x"}))


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TemplateContext(now=datetime(2026, 1, 1))


def test_filters(renderer: TemplateRenderer) -> None:
    assert render(renderer, "{{ steps.fetch.output.json | jmespath('items[0].d') }}") == "a"
    assert render(renderer, "{{ inputs.day | date('%Y-%m-%d') }}") == "2026-11-26"
    assert render(renderer, "{{ '26 de noviembre de 2026' | strftime('%d/%m/%Y') }}") == (
        "26/11/2026"
    )
    madrid = timezone(timedelta(hours=1))
    assert render(renderer, "{{ now | strftime('%H:%M') }}", now=NOW.astimezone(madrid)) == (
        "11:30"
    )
    assert render(renderer, "{{ {'a': '<é>', 'n': now} | tojson }}") == (
        '{"a": "<é>", "n": "2026-11-26T10:30:00+00:00"}'
    )
    assert render(renderer, "{{ inputs.nope | default('x') }}") == "x"
    assert render(renderer, "{{ steps.nope.output.id | default(7) }}") == 7


def test_bad_filter_arguments_are_template_errors(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateError, match="jmespath expression '\\[' is invalid"):
        render(renderer, "{{ inputs | jmespath('[') }}")
    with pytest.raises(TemplateError, match="is not a date"):
        render(renderer, "{{ 'soon' | date('%Y') }}")


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        (
            "{{ steps.fetch2.output.id }}",
            "steps.fetch2.output is undefined (no step 'fetch2' ran before this one)",
        ),
        (
            "{{ inputs.missing }}",
            "inputs.missing is undefined (the workflow has no input 'missing')",
        ),
        (
            "x {{ steps.fetch.output.json.nope }}",
            "steps.fetch.output.json.nope is undefined (steps.fetch.output.json has no key 'nope')",
        ),
        (
            "{{ steps.fetch.output.json.items[3] }}",
            "steps.fetch.output.json.items[3] is undefined (steps.fetch.output.json.items has "
            "1 items)",
        ),
        ("{{ foo }}", "foo is undefined (templates can use inputs, steps, secrets, env and now)"),
        ("{{ inputs.count + 'a' }}", "unsupported operand type(s) for +: 'int' and 'str'"),
        ("{{ 1 / 0 }}", "division by zero"),
    ],
)
def test_render_errors_name_the_template_and_the_reason(
    renderer: TemplateRenderer, template: str, reason: str
) -> None:
    with pytest.raises(TemplateProblem) as info:
        render(renderer, {"json": {"v": template}})
    problem = info.value
    assert problem.reason == reason
    assert problem.kind == "render"
    assert str(problem) == f"json.v: template {template!r} failed: {reason}"


def test_loop_variables_do_not_confuse_the_explanation(renderer: TemplateRenderer) -> None:
    template = "{% for i in steps.fetch.output.json['items'] %}{{ i.d }}{% endfor %}{{ inputs.x }}"
    with pytest.raises(TemplateProblem, match=r"inputs\.x is undefined"):
        render(renderer, template)


SSTI_PAYLOADS = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.__base__.__subclasses__() }}",
    "{{ ().__class__.__bases__[0].__subclasses__() }}",
    "{{ [].__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ config.items() }}",
    "{{ config.__class__.__init__.__globals__['os'] }}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ request.application.__globals__.__builtins__ }}",
    "{{ ''|attr('__class__') }}",
    "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ ''['__class__'] }}",
    "{{ ''['__cla' ~ 'ss__'] }}",
    "{{ ''|attr('__cla' ~ 'ss__') }}",
    "{{ '{0.__class__}'.format(1) }}",
    "{{ '{a.__class__.__mro__}'.format_map({'a': 1}) }}",
    "{{ inputs.count.__class__.mro() }}",
    "{{ steps.__class__ }}",
    "{{ now.__reduce_ex__(2) }}",
    "{{ secrets._resolve }}",
    "{{ steps.fetch.output.json.items|map(attribute='__class__')|list }}",
    "{{ range.__self__ }}",
    "{{ dict.mro() }}",
    "{% set x = ''.__class__ %}{{ x }}",
    "{{ (steps|attr('items'))().__iter__ }}",
]


@pytest.mark.parametrize("payload", SSTI_PAYLOADS)
def test_sandbox_escapes_are_refused(renderer: TemplateRenderer, payload: str) -> None:
    with pytest.raises(TemplateError, match="template tried to access an unsafe attribute"):
        render(renderer, {"x": payload})


def test_static_payloads_are_refused_at_load_time() -> None:
    with pytest.raises(TemplateError, match="unsafe attribute '__globals__'"):
        check_template("{{ cycler.__init__.__globals__ }}")
    with pytest.raises(TemplateError, match="unsafe attribute '_private'"):
        check_template("{{ steps.fetch.output._private }}")
    check_template("{{ steps.fetch.output['_id'] }}")  # a data key, allowed


@pytest.mark.parametrize(
    "payload",
    [
        "{% include 'x.txt' %}",
        "{% import 'macros' as m %}",
        "{% from 'm' import x %}",
        "{% extends 'base' %}",
    ],
)
def test_no_include_import_or_extends(payload: str) -> None:
    with pytest.raises(TemplateError, match="include, import and extends are not available"):
        check_template(payload)


def test_immutable_sandbox_refuses_mutation(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateError, match="unsafe attribute 'append'"):
        render(renderer, "{{ steps.fetch.output.json['items'].append(1) }}")


def test_resource_bombs_are_refused(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateError, match="would be too large"):
        render(renderer, "{{ 'a' * 100000000 }}")
    with pytest.raises(TemplateError, match="would be too large"):
        render(renderer, "{{ 9 ** 9999999 }}")
    with pytest.raises(TemplateError, match=r"[Rr]ange too big"):
        render(renderer, "{{ range(10**9) | list }}")


def test_check_template_reports_syntax_errors_with_the_line() -> None:
    check_template("plain text")
    check_template("{{ inputs.a | default('b') }}")
    with pytest.raises(TemplateProblem) as info:
        check_template("line one\n{{ inputs.a }")
    assert info.value.kind == "syntax"
    assert info.value.lineno == 2


def test_compiled_templates_are_cached() -> None:
    renderer = TemplateRenderer(cache_size=8)
    context = make_context()
    for _ in range(3):
        renderer.render("{{ inputs.count }} items", context)
    info = renderer._compiled.cache_info()  # type: ignore[attr-defined]
    assert (info.hits, info.misses) == (2, 1)


def test_lazy_filter_chains_and_slow_filters_are_bounded() -> None:
    # No loop and no call: only the filters themselves can stop this chain.
    renderer = TemplateRenderer(limits=RenderLimits(timeout_seconds=0.1))
    chain = "{{ (range(100000) | list * 10)" + " | map('string')" * 40 + " | list | length }}"
    with pytest.raises(TemplateProblem, match=r"took longer than 0.1s") as caught:
        render(renderer, chain)
    assert caught.value.kind == "limit"
    with pytest.raises(TemplateProblem, match="'wordwrap' would be too large"):
        render(renderer, "{{ ('a' * 1000000) | wordwrap(1) | length }}")


def test_deeply_nested_templates_are_refused_before_compiling() -> None:
    check_template("{{ x" + " | string" * 30 + " }}")
    with pytest.raises(TemplateProblem, match="nested too deeply"):
        check_template("{{ x" + " | string" * 60 + " }}")
