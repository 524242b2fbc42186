"""One diagnosed failure and what a retry loop should do about it.

Every integration (tenacity, `kyra.heal`, Celery, Prefect) asks the same two questions of
a failure: may a retry fix it, and how long to wait first. The answers come from the
taxonomy, never from the exception's type: only GREEN classes (rate limits, timeouts,
unavailable services) are retried; YELLOW (the data or config must change), RED
(credentials, permissions, billing, security) and `unknown` stop at once, because the
same request cannot succeed and every retry is a wasted (or, for auth, a suspicious) call.

The wait is the provider's Retry-After when it gave one, else the caller's fallback.
A verdict is cached on the exception, so tenacity's retry, stop and wait strategies (and
the recorder) diagnose each failure once.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kyra.engine.error_context import ErrorContext
from kyra.healing.taxonomy import ErrorClass, Safety

if TYPE_CHECKING:
    from kyra.healing.diagnosis.engine import Diagnoser
    from kyra.healing.diagnosis.types import Diagnosis

_CACHE_ATTRIBUTE = "__kyra_verdict__"


@dataclass(frozen=True)
class Verdict:
    """A failure's context, its diagnosis, and the retry decision they imply."""

    context: ErrorContext
    diagnosis: Diagnosis | None
    """None when diagnosis itself failed (treated as `unknown`: no retry)."""

    @property
    def safety(self) -> Safety:
        return Safety.RED if self.diagnosis is None else self.diagnosis.safety

    @property
    def error_class(self) -> ErrorClass:
        return ErrorClass.UNKNOWN if self.diagnosis is None else self.diagnosis.error_class

    @property
    def retryable(self) -> bool:
        """GREEN and a known class: a later identical call can succeed."""
        return self.safety is Safety.GREEN and self.error_class is not ErrorClass.UNKNOWN

    @property
    def retry_after(self) -> float | None:
        """Seconds the provider asked for (validated by diagnosis), else the raw header."""
        if self.diagnosis is not None and self.diagnosis.facts.retry_after_seconds is not None:
            return self.diagnosis.facts.retry_after_seconds
        return self.context.retry_after

    def delay(self, fallback: float) -> float:
        """How long to wait before the next attempt: Retry-After first, else `fallback`."""
        announced = self.retry_after
        return fallback if announced is None else max(0.0, announced)


def default_diagnoser() -> Diagnoser:
    from kyra.healing.diagnosis.engine import default_diagnoser as shared

    return shared()


def judge(
    exc: BaseException,
    *,
    provider: str | None = None,
    step: str | None = None,
    diagnoser: Diagnoser | None = None,
) -> Verdict:
    """Diagnose `exc` (once: the verdict is cached on the exception object)."""
    cached = getattr(exc, _CACHE_ATTRIBUTE, None)
    if isinstance(cached, Verdict):
        return cached
    context = ErrorContext.from_exception(exc, provider=provider, step=step)
    try:
        diagnosis: Diagnosis | None = (diagnoser or default_diagnoser()).diagnose(context)
    except Exception:
        diagnosis = None
    verdict = Verdict(context, diagnosis)
    with contextlib.suppress(AttributeError, TypeError):
        setattr(exc, _CACHE_ATTRIBUTE, verdict)
    return verdict
