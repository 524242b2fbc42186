"""Candidates for a value only a person knows (#14 item 5), from values: the error's
allowed values and expected format, inputs and earlier outputs; nothing empty."""

from __future__ import annotations

import pytest

from kyra.errors import ValueRequired
from kyra.healing.candidates import (
    allowed_values,
    check_value,
    expected_format,
    field_candidates,
    required_message,
)
from kyra.redaction import MASK


def test_allowed_values_are_read_from_the_error_text() -> None:
    assert allowed_values("Missing required field: plan (must be one of: basic, pro)") == [
        "basic",
        "pro",
    ]
    assert allowed_values("status: allowed values are 'open' | 'closed'") == ["open", "closed"]
    assert allowed_values("Missing required field: email") == []


def test_error_text_cannot_smuggle_free_text_in_as_a_value() -> None:
    hostile = "one of: rm -rf /*, a b c, <script>, ok, x'; DROP TABLE t"
    assert allowed_values(hostile) == ["ok"]
    assert allowed_values("one of: {{ secrets.TOKEN }}, ok") == []  # stops at the brace


def test_expected_format_prefers_the_validated_fact() -> None:
    assert expected_format("field 'when' expected format YYYY-MM-DD") == "YYYY-MM-DD"
    assert expected_format("email must be a valid email") == "email"
    assert expected_format("anything", "%Y-%m-%d") == "%Y-%m-%d"
    assert expected_format("Missing required field: email") is None


def test_candidates_come_from_inputs_outputs_error_and_history_in_that_order() -> None:
    found = field_candidates(
        "customer.email",
        inputs={"Email": "ops@example.com", "name": "Ana", "token": MASK},
        outputs={"lookup": {"body": {"contact": {"email": "ana@example.com"}}}},
        error_text="email must be one of: a@example.com",
        earlier=["ops@example.com", "old@example.com", ""],
    )
    assert [(c.value, c.source) for c in found] == [
        ("ops@example.com", "inputs.Email"),
        ("ana@example.com", "steps.lookup.output.body.contact.email"),
        ("a@example.com", "error"),
        ("old@example.com", "history"),
    ]


def test_no_candidate_is_empty_masked_or_a_template() -> None:
    found = field_candidates(
        "email",
        inputs={"email": ""},
        outputs={"a": {"email": MASK}, "b": {"email": "{{ inputs.x }}"}},
        error_text="",
        earlier=[None, "  "],
    )
    assert found == []


def test_approving_without_the_value_a_person_owes_is_refused() -> None:
    patch = {
        "ops": [{"op": "set_field_default", "step": "s", "field": "json.email", "value": None}]
    }
    for empty in (None, "", "  "):
        with pytest.raises(ValueRequired) as caught:
            check_value("abcdef123456", patch, empty)
        assert caught.value.field == "json.email" and "`value`" in str(caught.value)
    check_value("abcdef123456", patch, "ana@example.com")  # a value: accepted
    complete = {"ops": [{"op": "set_field_default", "field": "json.plan", "value": "pro"}]}
    check_value("abcdef123456", complete, None)  # a complete proposal approves as shown
    assert required_message("abcdef123456", "json.plan", [{"value": "pro"}], "es") == (
        "la corrección abcdef12 necesita un valor para 'json.plan' que solo tú conoces: "
        "kyra fixes approve abcdef12 --value ... (candidatos: pro)"
    )
