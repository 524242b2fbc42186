"""tenacity strategies that retry only what a retry can fix, and wait as long as asked.

    from tenacity import retry, stop_after_attempt, wait_random_exponential
    from kyra.integrations.tenacity import retry_if_healable, stop_on_red, wait_diagnosed

    @retry(retry=retry_if_healable(), stop=stop_on_red() | stop_after_attempt(6),
           wait=wait_diagnosed(fallback=wait_random_exponential(max=32)), reraise=True)
    def charge(): ...

`retry_if_healable` retries GREEN diagnoses only (429, 503, timeouts); a 401, a 400 with a
bad field or an unknown error stops at once. `wait_diagnosed` waits the provider's
Retry-After, else the fallback strategy. `stop_on_red` stops on RED even when combined
with a broader retry predicate. Needs `tenacity` (the `tenacity` extra).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tenacity import RetryCallState
from tenacity.retry import retry_base
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_exponential

from kyra.healing.taxonomy import Safety
from kyra.integrations.verdict import Verdict, judge

if TYPE_CHECKING:
    from kyra.healing.diagnosis.engine import Diagnoser

WaitStrategy = wait_base | Callable[[RetryCallState], float]


def _verdict(
    state: RetryCallState, provider: str | None, diagnoser: Diagnoser | None
) -> Verdict | None:
    outcome = state.outcome
    if outcome is None or not outcome.failed:
        return None
    exc = outcome.exception()
    if exc is None:
        return None
    step = getattr(state.fn, "__qualname__", None)
    return judge(exc, provider=provider, step=step, diagnoser=diagnoser)


class retry_if_healable(retry_base):
    """Retry when the failure's diagnosis is GREEN (and not `unknown`); never on a result."""

    def __init__(self, *, provider: str | None = None, diagnoser: Diagnoser | None = None):
        self.provider = provider
        self.diagnoser = diagnoser

    def __call__(self, retry_state: RetryCallState) -> bool:
        verdict = _verdict(retry_state, self.provider, self.diagnoser)
        return verdict is not None and verdict.retryable


class stop_on_red(stop_base):
    """Stop when the last failure is RED (credentials, permissions, billing, security)."""

    def __init__(self, *, provider: str | None = None, diagnoser: Diagnoser | None = None):
        self.provider = provider
        self.diagnoser = diagnoser

    def __call__(self, retry_state: RetryCallState) -> bool:
        verdict = _verdict(retry_state, self.provider, self.diagnoser)
        return verdict is not None and verdict.safety is Safety.RED


class wait_diagnosed(wait_base):
    """Wait the provider's Retry-After (capped at `max_wait`), else `fallback`'s wait."""

    def __init__(
        self,
        fallback: WaitStrategy | None = None,
        *,
        max_wait: float | None = None,
        provider: str | None = None,
        diagnoser: Diagnoser | None = None,
    ):
        self.fallback: WaitStrategy = fallback or wait_exponential(multiplier=1, max=32)
        self.max_wait = max_wait
        self.provider = provider
        self.diagnoser = diagnoser

    def __call__(self, retry_state: RetryCallState) -> float:
        verdict = _verdict(retry_state, self.provider, self.diagnoser)
        if verdict is None or verdict.retry_after is None:
            return float(self.fallback(retry_state))
        delay = verdict.delay(0.0)
        return delay if self.max_wait is None else min(delay, self.max_wait)
