"""tenacity strategies that retry only what a retry can fix, and wait as long as asked.

    from tenacity import retry, stop_after_attempt, wait_random_exponential
    from kyra.integrations.tenacity import retry_if_healable, stop_on_red, wait_diagnosed

    @retry(retry=retry_if_healable(), stop=stop_on_red() | stop_after_attempt(6),
           wait=wait_diagnosed(fallback=wait_random_exponential(max=32)), reraise=True)
    def charge(): ...

`retry_if_healable` retries GREEN diagnoses only (429, 503, timeouts); a 401, a 400 with a
bad field or an unknown error stops at once. `wait_diagnosed` waits the provider's
Retry-After, else the fallback strategy. `stop_on_red` stops on RED even when combined
with a broader retry predicate.

Learned pacing: give the strategies one `Pacer` (and `pace_diagnosed` as the `before`
hook), or take all of them from `healing_retry(key=...)`, and what one thread learns (a
Retry-After, an outage) holds back every thread calling the same key, first attempts
included (see `kyra.integrations.pacing`):

    @retry(**healing_retry(key=lambda state: state.args[0]))   # one gate per host argument
    def fetch(host, path): ...

Needs `tenacity` (the `tenacity` extra).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from tenacity import RetryCallState
from tenacity.retry import retry_base
from tenacity.stop import stop_after_attempt, stop_base
from tenacity.wait import wait_base, wait_exponential, wait_random_exponential

from kyra.healing.taxonomy import Safety
from kyra.integrations.pacing import Pacer
from kyra.integrations.verdict import Verdict, judge

if TYPE_CHECKING:
    from kyra.healing.diagnosis.engine import Diagnoser

WaitStrategy = wait_base | Callable[[RetryCallState], float]
KeyFunction = Callable[[RetryCallState], Hashable]


def function_key(state: RetryCallState) -> Hashable:
    """The default pacing key: the decorated function (every call of it shares a gate)."""
    return getattr(state.fn, "__qualname__", None) or id(state.fn)


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
    """Retry when the failure's diagnosis is GREEN (and not `unknown`); never on a result.
    With a `pacer`, a success opens the key's gate and a non-GREEN failure frees its probe."""

    def __init__(
        self,
        *,
        provider: str | None = None,
        diagnoser: Diagnoser | None = None,
        pacer: Pacer | None = None,
        key: KeyFunction = function_key,
    ):
        self.provider = provider
        self.diagnoser = diagnoser
        self.pacer = pacer
        self.key = key

    def __call__(self, retry_state: RetryCallState) -> bool:
        verdict = _verdict(retry_state, self.provider, self.diagnoser)
        retryable = verdict is not None and verdict.retryable
        if self.pacer is not None:
            if verdict is None:
                self.pacer.succeeded(self.key(retry_state))
            elif not retryable:
                self.pacer.released(self.key(retry_state))
        return retryable


class stop_on_red(stop_base):
    """Stop when the last failure is RED (credentials, permissions, billing, security)."""

    def __init__(self, *, provider: str | None = None, diagnoser: Diagnoser | None = None):
        self.provider = provider
        self.diagnoser = diagnoser

    def __call__(self, retry_state: RetryCallState) -> bool:
        verdict = _verdict(retry_state, self.provider, self.diagnoser)
        return verdict is not None and verdict.safety is Safety.RED


class wait_diagnosed(wait_base):
    """Wait the provider's Retry-After (capped at `max_wait`), else `fallback`'s wait.
    With a `pacer`, the wait also holds back the other callers of the key."""

    def __init__(
        self,
        fallback: WaitStrategy | None = None,
        *,
        max_wait: float | None = None,
        provider: str | None = None,
        diagnoser: Diagnoser | None = None,
        pacer: Pacer | None = None,
        key: KeyFunction = function_key,
    ):
        self.fallback: WaitStrategy = fallback or wait_exponential(multiplier=1, max=32)
        self.max_wait = max_wait
        self.provider = provider
        self.diagnoser = diagnoser
        self.pacer = pacer
        self.key = key

    def __call__(self, retry_state: RetryCallState) -> float:
        verdict = _verdict(retry_state, self.provider, self.diagnoser)
        announced = verdict is not None and verdict.retry_after is not None
        if verdict is None or verdict.retry_after is None:
            delay = float(self.fallback(retry_state))
        else:
            delay = verdict.delay(0.0)
            delay = delay if self.max_wait is None else min(delay, self.max_wait)
        if self.pacer is not None and verdict is not None and verdict.retryable:
            self.pacer.failed(self.key(retry_state), delay, announced=announced)
        return delay


class pace_diagnosed:
    """The `before` hook of learned pacing: wait until the key's gate lets this call go."""

    def __init__(self, pacer: Pacer, *, key: KeyFunction = function_key):
        self.pacer = pacer
        self.key = key

    def __call__(self, retry_state: RetryCallState) -> None:
        self.pacer.before(self.key(retry_state))


def healing_retry(
    *,
    attempts: int = 6,
    fallback: WaitStrategy | None = None,
    max_wait: float | None = None,
    key: KeyFunction = function_key,
    provider: str | None = None,
    pacer: Pacer | None = None,
    diagnoser: Diagnoser | None = None,
) -> dict[str, Any]:
    """Every argument of `tenacity.retry` for diagnosed retries with learned pacing:
    GREEN retried up to `attempts` calls in all (default fallback: full-jitter exponential
    1, 2, 4... s capped at 32), RED and the rest raised at once, callers of one `key`
    sharing what each learns."""
    pacer = pacer or Pacer()
    common: dict[str, Any] = {"provider": provider, "diagnoser": diagnoser}
    return {
        "before": pace_diagnosed(pacer, key=key),
        "retry": retry_if_healable(pacer=pacer, key=key, **common),
        "wait": wait_diagnosed(
            fallback or wait_random_exponential(multiplier=1, max=32),
            max_wait=max_wait,
            pacer=pacer,
            key=key,
            **common,
        ),
        "stop": stop_on_red(**common) | stop_after_attempt(attempts),
        "reraise": True,
    }
