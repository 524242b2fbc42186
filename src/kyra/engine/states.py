"""Workflow states (the spec's six) and the one table of allowed transitions.

An illegal transition raises `IllegalTransitionError`; it is never a silent overwrite.
Execution states are separate and simpler: queued → running → succeeded | failed, with
`waiting` for delayed re-runs.
"""

from __future__ import annotations

from enum import StrEnum


class WorkflowState(StrEnum):
    ACTIVE = "active"
    """Running normally."""
    INACTIVE = "inactive"
    """Paused by the user: no trigger fires it."""
    FAILED = "failed"
    """The last run failed; waiting for diagnosis."""
    FIXING = "fixing"
    """Kyra is diagnosing or repairing it."""
    FIXED = "fixed"
    """A fix was applied and the re-run succeeded; returns to active."""
    NEEDS_ATTENTION = "needs_attention"
    """Kyra will not (or could not) repair it: a person must act."""


class ExecutionStatus(StrEnum):
    QUEUED = "queued"
    WAITING = "waiting"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_EXECUTION_STATUSES = frozenset(
    {ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}
)

S = WorkflowState
TRANSITIONS: dict[WorkflowState, frozenset[WorkflowState]] = {
    S.ACTIVE: frozenset({S.INACTIVE, S.FAILED}),
    S.INACTIVE: frozenset({S.ACTIVE}),
    S.FAILED: frozenset({S.FIXING, S.NEEDS_ATTENTION, S.ACTIVE, S.INACTIVE}),
    S.FIXING: frozenset({S.FIXED, S.NEEDS_ATTENTION, S.FAILED, S.INACTIVE}),
    S.FIXED: frozenset({S.ACTIVE, S.FAILED, S.INACTIVE}),
    S.NEEDS_ATTENTION: frozenset({S.ACTIVE, S.FIXING, S.INACTIVE, S.FAILED}),
}
"""target states allowed from each state."""


def sources_of(target: WorkflowState) -> frozenset[str]:
    """The states from which `target` may be entered."""
    return frozenset(str(src) for src, targets in TRANSITIONS.items() if target in targets)


# What a finished run does to its workflow's state (the healer drives fixing/fixed).
ON_RUN_FAILED: dict[WorkflowState, WorkflowState] = {
    S.ACTIVE: S.FAILED,
    S.FIXED: S.FAILED,
}
ON_RUN_SUCCEEDED: dict[WorkflowState, WorkflowState] = {
    S.FAILED: S.ACTIVE,
    S.NEEDS_ATTENTION: S.ACTIVE,
    S.FIXED: S.ACTIVE,
}
