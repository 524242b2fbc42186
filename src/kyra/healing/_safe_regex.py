"""Tenant-written regular expressions matched against attacker-controlled text.

Python's `re` backtracks without limit: `.*.*x` over 4 KB of `a`s takes about 30 s, and
error messages and bodies are written by whoever answers the HTTP call. So a pattern
passes three guards:

1. At load: at most `MAX_PATTERN_LENGTH` characters, `re` syntax, and no construct known
   to backtrack catastrophically: a quantifier inside a repeated group (`(a+)+`), a
   repeated alternation (`(ab|a)*`), a backreference, or more than
   `MAX_UNBOUNDED_REPEATS` unbounded quantifiers.
2. At match: only the first `MAX_MATCH_TEXT` characters of the text are searched.
3. Matching runs on the `regex` engine (same syntax) with a timeout taken from a
   `MatchBudget` shared by every pattern of one decision. A timed-out search counts as
   no match, so the rule does not apply and Kyra's own diagnosis stands.
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Callable
from typing import Any

import regex  # type: ignore[import-untyped]  # a dateparser dependency, no stubs

MAX_PATTERN_LENGTH = 200
MAX_MATCH_TEXT = 4096
MAX_UNBOUNDED_REPEATS = 4
DEFAULT_BUDGET_SECONDS = 0.1

# `re`'s own parser: the only exact reader of `re` syntax (private, stable since 3.11).
_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)}


class MatchBudget:
    """Seconds of regex matching left for one decision; `clock` is injectable for tests."""

    def __init__(
        self, seconds: float = DEFAULT_BUDGET_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._deadline = clock() + seconds
        self.timed_out = False

    def remaining(self) -> float:
        return max(0.0, self._deadline - self._clock())


def check_pattern(pattern: str) -> None:
    """Raise ValueError with a sentence when `pattern` is too long, invalid or risky."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"a message pattern has at most {MAX_PATTERN_LENGTH} characters")
    try:
        parsed = _parser.parse(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    problem = _risk(list(parsed), in_repeat=False)
    if problem is None and _count_unbounded(list(parsed)) > MAX_UNBOUNDED_REPEATS:
        problem = (
            f"more than {MAX_UNBOUNDED_REPEATS} unbounded quantifiers (*, +, {{n,}}) "
            "can backtrack for too long"
        )
    if problem:
        raise ValueError(f"unsafe regular expression: {problem}")


def compile_pattern(pattern: str) -> Any:
    """A case-insensitive compiled `regex` pattern, after `check_pattern`."""
    check_pattern(pattern)
    try:
        return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)
    except regex.error as exc:  # `re` syntax that `regex` reads differently
        raise ValueError(f"invalid regular expression: {exc}") from None


def bounded_search(compiled: Any, texts: tuple[str, ...], budget: MatchBudget) -> bool:
    """True when `compiled` is found in one of `texts` (each cut to 4 KB) within the budget."""
    for text in texts:
        left = budget.remaining()
        if left <= 0:
            budget.timed_out = True
            return False
        try:
            if compiled.search(text[:MAX_MATCH_TEXT], timeout=left) is not None:
                return True
        except TimeoutError:
            budget.timed_out = True
            return False
    return False


def _risk(items: list[Any], *, in_repeat: bool) -> str | None:
    for op, av in items:
        if op in _REPEATS:
            _low, high, sub = av
            repeats = high > 1
            if in_repeat and repeats:
                return "a quantifier inside a repeated group, like (a+)+, backtracks exponentially"
            if high == _c.MAXREPEAT and _has_branch(list(sub)):
                return "a repeated alternation, like (ab|a)*, backtracks exponentially"
            found = _risk(list(sub), in_repeat=in_repeat or repeats)
        elif op in (_c.GROUPREF, _c.GROUPREF_EXISTS):
            return "backreferences are not allowed"
        else:
            found = _walk_children(op, av, in_repeat)
        if found:
            return found
    return None


def _walk_children(op: Any, av: Any, in_repeat: bool) -> str | None:
    for child in _children(op, av):
        found = _risk(child, in_repeat=in_repeat)
        if found:
            return found
    return None


def _children(op: Any, av: Any) -> list[list[Any]]:
    if op == _c.SUBPATTERN:
        return [list(av[-1])]
    if op == _c.BRANCH:
        return [list(branch) for branch in av[1]]
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return [list(av[1])]
    if op == getattr(_c, "ATOMIC_GROUP", None):
        return [list(av)]
    return []


def _has_branch(items: list[Any]) -> bool:
    for op, av in items:
        if op == _c.BRANCH:
            return True
        if op in _REPEATS:
            if _has_branch(list(av[2])):
                return True
            continue
        if any(_has_branch(child) for child in _children(op, av)):
            return True
    return False


def _count_unbounded(items: list[Any]) -> int:
    count = 0
    for op, av in items:
        if op in _REPEATS:
            count += (av[1] == _c.MAXREPEAT) + _count_unbounded(list(av[2]))
        else:
            count += sum(_count_unbounded(child) for child in _children(op, av))
    return count
