"""Prefect 3: retry a task only when a retry can fix its failure, and record what happened.

    from prefect import flow, task
    from kyra.integrations.prefect import healing_task_options, on_failure

    @task(**healing_task_options(retries=5))
    def charge(order_id): ...

    @flow(on_failure=[on_failure])
    def billing(): ...

`retry_condition_fn` (Prefect's `retry_condition_fn=`) retries GREEN diagnoses only (429,
503, timeouts); a 401 or a 400 fails the task at once, whatever `retries` says. Prefect's
retry delay is fixed per task, so when the provider announced a longer Retry-After the
condition waits the difference first: the retry never comes before the announced time.
`healing_task_options` sets retries, a zero Prefect delay (Kyra waits: Retry-After, else
the jittered exponential `backoff`), the condition and the hooks.

`on_failure` / `on_completion` (task and flow hooks) record the diagnosis and outcome when
a Kyra database is configured (`KYRA_DATABASE_URL`), as `kyra.heal` does (see
`kyra.integrations.recorder`). Needs the `prefect` extra (Prefect 3).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from kyra.integrations.heal import backoff
from kyra.integrations.recorder import CallLog, recorder_from
from kyra.integrations.verdict import Verdict, judge

_calls: dict[str, CallLog] = {}
_calls_lock = threading.Lock()


def _exception(state: Any) -> BaseException | None:
    """The exception a failed Prefect state holds (`data`, else its result)."""
    data = getattr(state, "data", None)
    if isinstance(data, BaseException):
        return data
    try:
        result = state.result(raise_on_failure=False)
    except Exception as exc:  # a result that cannot be read is itself the failure
        return exc
    return result if isinstance(result, BaseException) else None


def _name(task_or_flow: Any) -> str:
    fn = getattr(task_or_flow, "fn", None)
    if fn is not None:
        return f"{fn.__module__}.{fn.__qualname__}"
    return str(getattr(task_or_flow, "name", "prefect"))


def _verdict(task_or_flow: Any, state: Any) -> Verdict | None:
    exc = _exception(state)
    if exc is None:
        return None
    provider = getattr(task_or_flow, "kyra_provider", None)
    return judge(exc, provider=provider, step=_name(task_or_flow))


def _log(task_or_flow: Any, run: Any) -> CallLog | None:
    run_id = str(getattr(run, "id", ""))
    with _calls_lock:
        log = _calls.get(run_id)
        if log is None:
            recorder = recorder_from()
            if recorder is None:
                return None
            log = _calls[run_id] = recorder.call(_name(task_or_flow))
        return log


def _configured_delay(task: Any, retries_done: int) -> float:
    delays = getattr(task, "retry_delay_seconds", None) or 0
    if isinstance(delays, Sequence) and not isinstance(delays, str):
        return float(delays[min(retries_done, len(delays) - 1)]) if delays else 0.0
    return float(delays)


def make_retry_condition(
    fallback: Callable[[int], float] = backoff,
) -> Callable[[Any, Any, Any], bool]:
    """A `retry_condition_fn` whose wait, when the provider announced none and Prefect's
    own delay is 0, is `fallback(retry number)` seconds."""

    def retry_condition(task: Any, task_run: Any, state: Any) -> bool:
        verdict = _verdict(task, state)
        if verdict is None or not verdict.retryable:
            return False
        retries_done = max(0, int(getattr(task_run, "run_count", 1) or 1) - 1)
        configured = _configured_delay(task, retries_done)
        wanted = verdict.retry_after
        if wanted is None and configured == 0:
            wanted = fallback(retries_done + 1)
        extra = max(0.0, (wanted or 0.0) - configured)
        log = _log(task, task_run)
        if log is not None:
            log.failure(verdict, retrying=True, delay=configured + extra)
        if extra > 0:
            time.sleep(extra)
        return True

    return retry_condition


retry_condition_fn = make_retry_condition()
"""Prefect's `retry_condition_fn`: True for a GREEN failure (after waiting whatever part
of its Retry-After, or of Kyra's backoff when Prefect's own delay is 0, Prefect would not
wait); False for YELLOW, RED and unknown."""


def on_failure(task_or_flow: Any, run: Any, state: Any) -> None:
    """Task or flow `on_failure` hook: diagnose the final failure and record it."""
    log = _log(task_or_flow, run)
    if log is None:
        return
    verdict = _verdict(task_or_flow, state)
    if verdict is not None:
        log.failure(verdict, retrying=False, delay=None)
    log.finish(False)
    _forget(run)


def on_completion(task_or_flow: Any, run: Any, state: Any) -> None:
    """Task or flow `on_completion` hook: a run that was retried settles its fix."""
    with _calls_lock:
        log = _calls.get(str(getattr(run, "id", "")))
    if log is not None:
        log.finish(True)
        _forget(run)


def _forget(run: Any) -> None:
    with _calls_lock:
        _calls.pop(str(getattr(run, "id", "")), None)


def healing_task_options(
    retries: int = 5, fallback: Callable[[int], float] = backoff
) -> dict[str, Any]:
    """`@task(**healing_task_options())`: GREEN retried up to `retries` times after the
    Retry-After (else `fallback(retry number)` s), the rest failed at once, all recorded."""
    return {
        "retries": retries,
        "retry_delay_seconds": 0,
        "retry_condition_fn": make_retry_condition(fallback),
        "on_failure": [on_failure],
        "on_completion": [on_completion],
    }
