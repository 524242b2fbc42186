"""What the fleet asks a request to wait for (`Wait`), and how a long wait is looked at again.

A place in line (`pacing.Slot`) is a ticket whose time follows its scope's current rate,
so a run waiting for one re-asks after part of the wait (`recheck`) instead of sleeping
through a rate that has since been found higher.
"""

from __future__ import annotations

from dataclasses import dataclass

from kyra.engine.pacing import Slot

LATE_SLOT = 0.25
"""Seconds a run may come late for its reserved slot and still take it; later, it queues
again (the line has moved on)."""
RECHECK_SHARE = 0.25
RECHECK_MIN = 1.0


@dataclass
class Wait:
    seconds: float
    kind: str
    """pacing | quota | retry_after | circuit"""
    target: str
    detail: str


def recheck(slot: Slot, seconds: float) -> float:
    """How long a run waits before it asks again about its place in line. A ticket's time
    moves when the rate changes, so a long wait is looked at again after a quarter of it
    (at least a second): a few wake-ups per wait, and a limit found higher is used
    within a quarter of the wait."""
    if slot.ticket is None or seconds <= RECHECK_MIN:
        return seconds
    return max(RECHECK_MIN, seconds * RECHECK_SHARE)


def duration_text(seconds: float) -> str:
    """A wait as people read it (`31.7 years`, `2.0 h`, `4.5 s`)."""
    for unit, size in (("years", 365 * 86400.0), ("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"
