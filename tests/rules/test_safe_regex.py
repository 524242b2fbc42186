"""Message patterns are tenant-written but run on attacker-written text: checked at load,
matched on at most 4 KB, under a time budget whose exhaustion never loosens a decision."""

from __future__ import annotations

import time

import pytest

from kyra.healing._safe_regex import (
    MAX_MATCH_TEXT,
    MatchBudget,
    bounded_search,
    check_pattern,
    compile_pattern,
)
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import Safety
from tests.rules.conftest import diagnose, error, rules_of


@pytest.mark.parametrize(
    "pattern",
    [
        r"rate.?limit",
        r"\bSLOW_DOWN\b",
        r"(quota|limit) exceeded",
        r"(?:ab)+c",
        r"(a|b)*c",  # single characters: the parser makes this a class, no backtracking
        r"x{1,3}y",
        r"^upstream (connect|reset) error",
    ],
)
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    check_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a+)+$", "a quantifier inside a repeated group"),
        (r"(?:\w*\s?)*$", "a quantifier inside a repeated group"),
        (r"(x{1,3}){2,9}", "a quantifier inside a repeated group"),
        (r"(?=(a+)+)b", "a quantifier inside a repeated group"),
        (r"(ab|a)*c", "a repeated alternation"),
        (r"(\w+)-\1", "backreferences are not allowed"),
        (r".*a.*b.*c.*d.*e", "more than 4 unbounded quantifiers"),
        ("a" * 201, "at most 200 characters"),
        (r"(", "invalid regular expression"),
    ],
)
def test_risky_patterns_are_refused(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        check_pattern(pattern)
    assert reason in str(info.value)


def test_only_the_first_4_kb_of_the_text_is_searched() -> None:
    compiled = compile_pattern("needle")
    late = "x" * MAX_MATCH_TEXT + "needle"
    assert not bounded_search(compiled, (late,), MatchBudget())
    assert bounded_search(compiled, ("x" * 100 + "NEEDLE",), MatchBudget())  # case-insensitive


def test_a_slow_search_stops_at_the_budget() -> None:
    # Allowed by the structural check (4 unbounded quantifiers) yet polynomial: O(n^4).
    compiled = compile_pattern(r".*a.*a.*a.*x")
    budget = MatchBudget(0.05)
    started = time.monotonic()
    assert not bounded_search(compiled, ("a" * MAX_MATCH_TEXT,), budget)
    assert budget.timed_out
    assert time.monotonic() - started < 1.0


def test_an_exhausted_budget_searches_nothing() -> None:
    ticks = iter([0.0, 5.0])
    budget = MatchBudget(1.0, clock=lambda: next(ticks))
    assert not bounded_search(compile_pattern("a"), ("a",), budget)
    assert budget.timed_out


def test_a_timed_out_pattern_makes_kyra_ask_instead_of_skipping_the_rule() -> None:
    # An attacker who makes a "never" rule's pattern time out must not get the automatic
    # fix the rule was written to prevent.
    rules = rules_of(
        r"""
        rules:
          - name: hands-off
            match: {message: '.*a.*a.*a.*x'}
            remedy: {class: rate_limit_exceeded}
            safety: never
        """
    )
    ctx = error(status_code=429, error_message="a" * 4000, headers={"Retry-After": "1"})
    diagnosis = diagnose(ctx)
    assert diagnosis.safety is Safety.GREEN
    decision = rules.decide(ctx, diagnosis, HealingSettings(), budget=MatchBudget(0.02))
    assert decision is not None and decision.rule_name is None
    assert decision.safety_override == "propose"
    assert decision.diagnosis.safety is Safety.YELLOW and not decision.diagnosis.auto_reparable
    assert "could not be evaluated" in decision.diagnosis.explanation
