"""`kyra.heal`: retry a plain or async function only when its failure can heal by waiting.

    @kyra.heal(provider="stripe", attempts=6)
    def charge(order): ...

Each failure is diagnosed: GREEN (429, 503, timeouts) is retried after the provider's
Retry-After, else after `fallback(attempt)` seconds (default: exponential 1, 2, 4... capped
at 32 s, full jitter); YELLOW, RED and `unknown` re-raise at once. A Retry-After longer
than `max_wait` re-raises too: sleeping in-process for an hour helps nobody. `pace="stripe"`
(or a function of the call's arguments) shares learned pacing among every healed call of
that key in the process (`kyra.integrations.pacing`). With a database configured
(`KYRA_DATABASE_URL`, or `store=`), diagnoses and outcomes are recorded for the Health
Center and `/metrics` (see `kyra.integrations.recorder`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from kyra.integrations.pacing import Pacer
from kyra.integrations.recorder import CallLog, recorder_from
from kyra.integrations.verdict import judge

if TYPE_CHECKING:
    from kyra.healing.diagnosis.engine import Diagnoser
    from kyra.store import Store

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_ATTEMPTS = 6
BACKOFF_CAP_SECONDS = 32.0
PACER = Pacer()
"""Shared by every `heal`ed function of the process: one gate a pacing key."""
PaceKey = Hashable | Callable[..., Hashable] | None


def backoff(attempt: int) -> float:
    """Full-jitter exponential backoff: U(0, min(32, 2 ** (attempt - 1))) seconds."""
    return random.uniform(0.0, min(BACKOFF_CAP_SECONDS, 2.0 ** (attempt - 1)))


@dataclass
class HealPolicy:
    """What `heal` was told: how often, how long, where to record."""

    name: str
    attempts: int = DEFAULT_ATTEMPTS
    fallback: Callable[[int], float] = backoff
    max_wait: float = 300.0
    provider: str | None = None
    store: Store | str | None = None
    tenant: str | None = None
    diagnoser: Diagnoser | None = None
    pace: PaceKey = None

    def pace_key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable | None:
        if self.pace is None:
            return None
        return self.pace(*args, **kwargs) if callable(self.pace) else self.pace


class _Call:
    """One call's attempts: decides each retry and keeps its record."""

    def __init__(self, policy: HealPolicy, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.policy = policy
        self.log: CallLog | None = None
        self.failed = False
        self.key = policy.pace_key(args, kwargs)

    def before(self) -> None:
        """Wait until the pacing key's gate lets this attempt go (no key: go)."""
        if self.key is not None:
            PACER.before(self.key)

    def delay_after(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to re-raise `exc`."""
        policy = self.policy
        verdict = judge(exc, provider=policy.provider, step=policy.name, diagnoser=policy.diagnoser)
        delay: float | None = None
        if verdict.retryable and attempt < policy.attempts:
            delay = verdict.delay(policy.fallback(attempt))
            if delay > policy.max_wait:
                delay = None
        if self.key is not None:
            if verdict.retryable:
                wait = delay if delay is not None else verdict.delay(0.0)
                PACER.failed(self.key, wait, announced=verdict.retry_after is not None)
            else:
                PACER.released(self.key)
        self.failed = True
        if self.log is None:
            recorder = recorder_from(policy.store, policy.tenant)
            self.log = recorder.call(policy.name) if recorder is not None else None
        if self.log is not None:
            self.log.failure(verdict, retrying=delay is not None, delay=delay)
            if delay is None:
                self.log.finish(False)
        return delay

    def succeeded(self) -> None:
        if self.key is not None:
            PACER.succeeded(self.key)
        if self.log is not None:
            self.log.finish(True)


def heal(
    func: F | None = None,
    /,
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    fallback: Callable[[int], float] | float | None = None,
    max_wait: float = 300.0,
    provider: str | None = None,
    name: str | None = None,
    store: Store | str | None = None,
    tenant: str | None = None,
    diagnoser: Diagnoser | None = None,
    pace: PaceKey = None,
) -> F | Callable[[F], F]:
    """Decorate `func` (plain or async) so GREEN failures retry and the rest raise at once.

    Use bare (`@kyra.heal`) or with options (`@kyra.heal(provider="stripe")`).

    Parameters:
        attempts: calls in all, the first included.
        fallback: seconds before retry n when the provider gave no Retry-After: a number,
            or a function of n (default `backoff`).
        max_wait: a longer Retry-After re-raises instead of sleeping.
        provider: the service called (helps diagnosis: `stripe`, `google`, `smtp`).
        name: the workflow name its records appear under (default: module.qualname).
        store, tenant: where to record (default: `KYRA_DATABASE_URL`, `KYRA_TENANT`).
        pace: a pacing key, or a function of the call's arguments giving one.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    wait = _fallback(fallback)

    def decorate(target: F) -> F:
        policy = HealPolicy(
            name=name or f"{target.__module__}.{target.__qualname__}",
            attempts=attempts,
            fallback=wait,
            max_wait=max_wait,
            provider=provider,
            store=store,
            tenant=tenant,
            diagnoser=diagnoser,
            pace=pace,
        )
        if inspect.iscoroutinefunction(target):
            return _async_wrapper(target, policy)
        return _sync_wrapper(target, policy)

    return decorate(func) if func is not None else decorate


def _fallback(fallback: Callable[[int], float] | float | None) -> Callable[[int], float]:
    if fallback is None:
        return backoff
    if callable(fallback):
        return fallback
    seconds = float(fallback)
    if seconds < 0:
        raise ValueError("fallback must not be negative")
    return lambda _attempt: seconds


def _sync_wrapper(target: F, policy: HealPolicy) -> F:
    @functools.wraps(target)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _Call(policy, args, kwargs)
        attempt = 1
        while True:
            call.before()
            try:
                result = target(*args, **kwargs)
            except Exception as exc:
                delay = call.delay_after(exc, attempt)
                if delay is None:
                    raise
                time.sleep(delay)
                attempt += 1
                continue
            call.succeeded()
            return result

    return wrapper  # type: ignore[return-value]


def _async_wrapper(target: F, policy: HealPolicy) -> F:
    @functools.wraps(target)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _Call(policy, args, kwargs)
        attempt = 1
        while True:
            if call.key is not None:
                await asyncio.to_thread(call.before)
            try:
                result = await target(*args, **kwargs)
            except Exception as exc:
                # Diagnosis and recording are short and synchronous; a thread keeps the loop free.
                delay = await asyncio.to_thread(call.delay_after, exc, attempt)
                if delay is None:
                    raise
                await asyncio.sleep(delay)
                attempt += 1
                continue
            if call.log is not None or call.key is not None:
                await asyncio.to_thread(call.succeeded)
            return result

    return wrapper  # type: ignore[return-value]
