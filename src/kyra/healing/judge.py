"""The verdict on a verified fix, as a value: keep it or roll it back.

A fix is judged by the failure it was made for: a later failure counts against it only
if it happened at the patched step with the error class that triggered the fix. Bad
input in another step, an expired credential or an outage elsewhere says nothing about a
date-format fix and must not undo it. The failure that triggered the fix is not its own
baseline, so a workflow with no history (baseline rate 0) is rolled back as soon as the
fixed failure comes back within the window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kyra.store.executions import RunOutcome

Classify = Callable[[dict[str, Any]], str | None]
"""Error class of a stored error context (None when it cannot be told)."""


@dataclass(frozen=True)
class Verdict:
    rollback: bool
    settled: bool
    """True once the window is full (the fix is kept for good) or it is rolled back."""
    after_rate: float
    before_rate: float


def same_failure(
    outcome: RunOutcome, step: str | None, error_class: str, classify: Classify
) -> bool:
    """Whether `outcome` is the failure the fix was made for."""
    if outcome.status != "failed" or outcome.failed_step != step or not outcome.error_context:
        return False
    return classify(outcome.error_context) == error_class


def judge(
    *,
    step: str | None,
    error_class: str,
    after: Sequence[RunOutcome],
    before: Sequence[RunOutcome],
    window: int,
    classify: Classify,
) -> Verdict:
    """Roll back when the fixed failure recurs more often after the fix than before it."""
    failed_after = sum(same_failure(o, step, error_class, classify) for o in after)
    failed_before = sum(same_failure(o, step, error_class, classify) for o in before)
    before_rate = failed_before / len(before) if before else 0.0
    after_rate = failed_after / max(len(after), 1)
    if failed_after > before_rate * window:
        return Verdict(True, True, after_rate, before_rate)
    return Verdict(False, len(after) >= window, after_rate, before_rate)
