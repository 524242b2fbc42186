"""Rules documents are validated on load; every problem names file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kyra.errors import WorkflowDefinitionError
from kyra.healing.rules_loader import RulesDefinitionError, load_rules_file, load_rules_text
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import ErrorClass

GOOD = """\
# ACME answers 400 SLOW_DOWN when it means "rate limited"
version: 1
rules:
  - name: acme-slow-down
    description: ACME's rate limit
    match:
      provider: acme
      status: [400, 429]
      error_code: SLOW_DOWN
    remedy:
      class: rate_limit_exceeded
      max_request_delay: 10
      max_retries: 2
  - name: flaky-5xx
    priority: 10
    match: {status: 5xx, message: "upstream (connect|reset)"}
    remedy: {class: service_temporarily_unavailable, max_delay: 120}
    safety: propose
"""


def problems(text: str, settings: HealingSettings | None = None) -> list[str]:
    with pytest.raises(RulesDefinitionError) as info:
        load_rules_text(textwrap.dedent(text), "rules.yaml", settings)
    return info.value.problems


def test_a_valid_document_loads_and_round_trips_through_its_stored_json() -> None:
    document = load_rules_text(GOOD, "rules.yaml")
    first, second = document.rules
    assert first.remedy.error_class is ErrorClass.RATE_LIMIT_EXCEEDED
    assert first.match.status == ("400", "429") and first.match.provider == ("acme",)
    assert (second.safety, second.priority, second.match.status) == ("propose", 10, ("5xx",))
    again = type(document).model_validate(document.to_json())
    assert again == document


def test_widening_a_bound_is_a_load_error_with_file_line_and_field() -> None:
    found = problems(
        """\
        rules:
          - name: too-patient
            match: {status: 429}
            remedy:
              class: rate_limit_exceeded
              max_request_delay: 90
              max_retries: 9
        """
    )
    assert found == [
        "rules.yaml:6: rules[0].remedy.max_request_delay: cannot widen the bound "
        "max_request_delay (60 s); a rule may only lower it",
        "rules.yaml:7: rules[0].remedy.max_retries: cannot widen the bound max_retries (5); "
        "a rule may only lower it",
    ]


def test_the_global_bound_is_the_settings_when_they_are_lower_than_the_hard_limit() -> None:
    text = """\
        rules:
          - name: r
            match: {status: 504}
            remedy: {class: timeout_error, max_timeout: 50}
        """
    assert load_rules_text(textwrap.dedent(text), "r.yaml", HealingSettings())
    [found] = problems(text, HealingSettings(max_timeout_seconds=45))
    assert "cannot widen the bound max_timeout (45 s)" in found


@pytest.mark.parametrize(
    ("snippet", "line", "expected"),
    [
        (
            "match: {status: 401}\n    remedy: {class: invalid_credentials}",
            4,
            "rules[0].remedy.class: invalid_credentials is RED",
        ),
        (
            "match: {status: 429}\n    remedy: {class: rate_limit_exceded}",
            4,
            "unknown error class 'rate_limit_exceded' (did you mean 'rate_limit_exceeded'?)",
        ),
        (
            "match: {status: 429}\n    remedy: {class: rate_limit_exceeded, max_timeout: 5}",
            4,
            "max_timeout does not apply to rate_limit_exceeded: it takes max_request_delay, "
            "max_retries, initial_delay, max_delay",
        ),
        (
            "match: {status: 422}\n    remedy: {class: missing_required_field, max_retries: 1}",
            4,
            "max_retries does not apply to missing_required_field: it has no bounds to set",
        ),
        (
            "match: {status: 503}\n    remedy: {class: service_temporarily_unavailable, "
            "initial_delay: 30, max_delay: 10}",
            4,
            "max_delay (10 s) is below initial_delay (30 s)",
        ),
        (
            "match: {status: 422}\n    remedy: {class: missing_required_field}\n    safety: auto",
            5,
            "rules[0].safety: safety 'auto' cannot make missing_required_field automatic: it is "
            "a YELLOW class",
        ),
        (
            "match: {}\n    remedy: {class: timeout_error}",
            3,
            "rules[0].match: match needs at least one condition",
        ),
        (
            "match: {stauts: 429}\n    remedy: {class: timeout_error}",
            3,
            "rules[0].match.stauts: unknown field (did you mean 'status'?)",
        ),
        (
            "match: {status: 6xx}\n    remedy: {class: timeout_error}",
            3,
            "status must be a code from 100 to 599 or a class like 5xx, got '6xx'",
        ),
        (
            "match: {status: true}\n    remedy: {class: timeout_error}",
            3,
            "status must be a code from 100 to 599 or a class like 5xx, got True",
        ),
        (
            "match: {message: '(a+)+$'}\n    remedy: {class: timeout_error}",
            3,
            "rules[0].match.message: unsafe regular expression: a quantifier inside a "
            "repeated group",
        ),
        (
            "match: {message: '[unclosed'}\n    remedy: {class: timeout_error}",
            3,
            "rules[0].match.message: invalid regular expression",
        ),
        (
            "match: {provider: ''}\n    remedy: {class: timeout_error}",
            3,
            "provider must be text of 1 to 100 characters",
        ),
        (
            "match: {status: 504}\n    remedy: {class: timeout_error}\n    safety: maybe",
            5,
            "rules[0].safety: must be 'auto', 'propose' or 'never' (got text 'maybe')",
        ),
        (
            "match: {status: 504}\n    remedy: {class: timeout_error}\n    priority: 5000",
            5,
            "rules[0].priority: must be less than or equal to 1000",
        ),
    ],
)
def test_each_problem_is_one_clear_line(snippet: str, line: int, expected: str) -> None:
    text = "rules:\n  - name: r\n    " + snippet + "\n"
    [found] = problems(text)
    assert found.startswith(f"rules.yaml:{line}: "), found
    assert expected in found, found


def test_long_patterns_and_backreferences_are_refused() -> None:
    long = "a" * 201
    found = problems(
        f"""\
        rules:
          - name: long
            match: {{message: "{long}"}}
            remedy: {{class: timeout_error}}
          - name: backref
            match: {{message: '(\\w+) \\1'}}
            remedy: {{class: timeout_error}}
        """
    )
    assert "a message pattern has at most 200 characters" in found[0]
    assert found[1].endswith("unsafe regular expression: backreferences are not allowed")


def test_rule_names_are_unique_and_well_formed() -> None:
    found = problems(
        """\
        rules:
          - {name: same, match: {status: 504}, remedy: {class: timeout_error}}
          - {name: same, match: {status: 503}, remedy: {class: timeout_error}}
        """
    )
    assert found == ["rules.yaml:3: rules[1].name: rule name 'same' is already used by rules[0]"]
    [bad] = problems(
        "rules:\n  - {name: 'no spaces', match: {status: 504}, remedy: {class: timeout_error}}\n"
    )
    assert "rules[0].name: a rule name has 1 to 64 letters" in bad


def test_problems_are_collected_and_sorted_by_line() -> None:
    found = problems(
        """\
        rules:
          - name: a
            match: {status: 429}
            remedy: {class: rate_limit_exceeded, max_request_delay: 61}
          - name: b
            match: {}
            remedy: {class: billing_issue}
        """
    )
    assert [p.split(":")[1] for p in found] == ["4", "6", "7"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules: [\n", "rules.yaml:2:1: YAML syntax error"),
        (
            "rules: []\nrules: []\n",
            "rules.yaml:2: rules: duplicate key 'rules' (first set on line 1)",
        ),
        ("- a\n- b\n", "rules.yaml:1: a rules file is a mapping with a 'rules:' list, not a list"),
        ("rules: []\nextra: 1\n", "rules.yaml:2: extra: unknown field; expected one of: version"),
        ("version: 2\nrules: []\n", "rules.yaml:1: version: must be 1"),
        ("rules: !!python/object:os.system {}\n", "rules.yaml:1: rules: unsupported YAML tag"),
        ("rules: {a: 1}\n", "rules.yaml:1: rules: expected a list, got a mapping"),
        (
            "rules:\n  - {name: x, match: {status: 504}, remedy: 3}\n",
            "expected a mapping, got a number",
        ),
    ],
)
def test_unreadable_documents(text: str, expected: str) -> None:
    found = problems(text)
    assert any(expected in problem for problem in found), found


def test_too_many_rules() -> None:
    many = "".join(
        f"  - {{name: r{i}, match: {{status: 504}}, remedy: {{class: timeout_error}}}}\n"
        for i in range(101)
    )
    [found] = problems("rules:\n" + many)
    assert "rules: list should have at most 100 items" in found


def test_json_documents_and_files(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(
        '{"rules": [{"name": "j", "match": {"status": 504}, "remedy": {"class": "timeout_error",'
        ' "max_timeout": 500}}]}',
        encoding="utf-8",
    )
    with pytest.raises(RulesDefinitionError) as info:
        load_rules_file(path)
    assert isinstance(info.value, WorkflowDefinitionError)  # the CLI prints both the same way
    [found] = info.value.problems
    assert found.startswith(f"{path}:1: rules[0].remedy.max_timeout: cannot widen")
    good = tmp_path / "rules.yaml"
    good.write_text(GOOD, encoding="utf-8")
    document, text = load_rules_file(good)
    assert text == GOOD and len(document.rules) == 2
    with pytest.raises(RulesDefinitionError, match="cannot read the file"):
        load_rules_file(tmp_path / "missing.yaml")
