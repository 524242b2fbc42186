"""What healing did with one finished run (`HealOutcome`), and the short texts its
records share (the error in one line, a delay a person reads)."""

from __future__ import annotations

from dataclasses import dataclass

from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis.types import Diagnosis


@dataclass(frozen=True)
class HealOutcome:
    """What healing did with one finished run."""

    action: str
    """none | skipped | rerun | proposed | needs_attention | blocked | verified |
    rolled_back | approved"""
    workflow_id: str | None = None
    fix_id: str | None = None
    rerun_execution_id: str | None = None
    diagnosis: Diagnosis | None = None
    message: str = ""


NONE = HealOutcome("none")


def short_error(ctx: ErrorContext) -> str:
    """The failure in one line (audit summaries, events, a failed fix's reason)."""
    status = f"HTTP {ctx.status_code} " if ctx.status_code else ""
    return f"{status}{ctx.error_type or 'error'}: {ctx.error_message}"[:200]


def human_delay(seconds: float) -> str:
    if seconds < 1:
        return "0 s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"
