"""A Celery Task base that retries only what a retry can fix, after the wait it was asked.

    from kyra.integrations.celery import HealingTask

    @app.task(base=HealingTask, bind=True, max_retries=5, kyra_provider="stripe")
    def charge(self, order_id): ...

A failing task is diagnosed in the worker: GREEN (429, 503, timeouts) is retried with
`countdown` = the provider's Retry-After, else `kyra_fallback(retry number)` (exponential
1, 2, 4... s capped at 32, full jitter); YELLOW, RED and `unknown` fail at once, without
spending a retry. Do not combine with `autoretry_for`: it would retry RED errors too.

With `KYRA_DATABASE_URL` set in the worker (or `kyra_database_url` on the task), each
failed call is recorded like `kyra.heal`'s (see `kyra.integrations.recorder`): the record
travels with the retried message in a `kyra_record` header, so whichever worker runs the
retry settles the same fix. Needs the `celery` extra.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, ClassVar

from celery import Task  # type: ignore[import-untyped]
from celery.exceptions import Ignore, Reject, Retry  # type: ignore[import-untyped]

from kyra.integrations.heal import backoff
from kyra.integrations.pacing import PROBE_POLL_SECONDS, Pacer
from kyra.integrations.recorder import CallLog, recorder_from
from kyra.integrations.verdict import Verdict, judge

HEADER = "kyra_record"
PACER = Pacer()
"""One per worker process: its tasks share what each learns about a pacing key."""
BLOCK_SECONDS = 1.0
"""Longest wait for a pacing gate inside a task; a longer one re-sends the task."""


class HealingTask(Task):  # type: ignore[misc]
    """Diagnose a failing task; retry GREEN with the right countdown, never RED."""

    abstract = True
    max_retries = 5
    kyra_provider: ClassVar[str | None] = None
    """The service the task calls (helps diagnosis: `stripe`, `google`, `smtp`)."""
    kyra_fallback: ClassVar[Callable[[int], float]] = staticmethod(backoff)
    """Seconds before retry n when the provider gave no Retry-After."""
    kyra_max_countdown: ClassVar[float] = 3600.0
    """A longer Retry-After fails the task instead of parking it for hours."""
    kyra_database_url: ClassVar[str | None] = None
    """Where to record; default `KYRA_DATABASE_URL` in the worker's environment."""
    kyra_pace_key: ClassVar[Callable[[Any, tuple[Any, ...], dict[str, Any]], Hashable] | None] = (
        None
    )
    """`(task, args, kwargs) -> key` turns on learned pacing (`kyra.integrations.pacing`)
    among the tasks of one worker process (use `--pool threads` to share it widely)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        pace = type(self).kyra_pace_key
        key = (self.name, pace(self, args, kwargs)) if pace is not None else None
        if key is not None:
            self._wait_for_gate(key)
        try:
            result = super().__call__(*args, **kwargs)
        except (Retry, Ignore, Reject):
            raise
        except Exception as exc:
            self._failed(exc, key)
            raise
        if key is not None:
            PACER.succeeded(key)
        if self.request.retries:  # a retried call succeeded: settle its fix
            log = self._log()
            if log is not None and log.fix_id is not None:
                log.finish(True)
        return result

    def _wait_for_gate(self, key: Hashable) -> None:
        """Go when the key's gate lets this task through. A short wait (a probe's round
        trip, a gate about to open) is waited here; a long one hands the worker slot back
        and comes back later (re-sent with a countdown, not counted as a retry): blocking
        for seconds would starve the worker's other tasks."""
        if self.request.is_eager or self.request.called_directly:
            PACER.before(key)
            return
        if PACER.before(key, timeout=BLOCK_SECONDS) is not None:
            return
        countdown = max(PACER.closed_for(key), PROBE_POLL_SECONDS)
        self.signature_from_request(self.request, countdown=countdown).apply_async()
        raise Ignore()

    def _failed(self, exc: Exception, key: Hashable | None) -> None:
        """Retry (raises `Retry`) when GREEN and retries are left; else record and return."""
        verdict = judge(exc, provider=self.kyra_provider, step=self.name)
        retries = int(self.request.retries or 0)
        countdown = self._countdown(verdict, retries)
        if key is not None:
            if verdict.retryable:
                wait = countdown if countdown is not None else verdict.delay(0.0)
                PACER.failed(key, wait, announced=verdict.retry_after is not None)
            else:
                PACER.released(key)
        log = self._log()
        if log is not None:
            log.failure(verdict, retrying=countdown is not None, delay=countdown)
            if countdown is None:
                log.finish(False)
        if countdown is None:
            return
        headers = {HEADER: _carried(log)} if log is not None else {}
        raise self.retry(exc=exc, countdown=countdown, headers=headers)

    def _countdown(self, verdict: Verdict, retries: int) -> float | None:
        if not verdict.retryable:
            return None
        if self.max_retries is not None and retries >= self.max_retries:
            return None
        countdown = verdict.delay(type(self).kyra_fallback(retries + 1))
        return countdown if countdown <= self.kyra_max_countdown else None

    def _log(self) -> CallLog | None:
        """This call's record (carried by a retried message), None without a database."""
        cached: CallLog | None = getattr(self.request, "_kyra_log", None)
        if cached is not None:
            return cached
        recorder = recorder_from(self.kyra_database_url)
        if recorder is None:
            return None
        log = recorder.call(self.name)
        carried = _header(self.request)
        if carried:
            log.workflow_id = carried.get("workflow")
            log.failed_execution = carried.get("execution")
            log.fix_id = carried.get("fix")
        self.request._kyra_log = log
        return log


def _carried(log: CallLog | None) -> dict[str, str | None]:
    if log is None:
        return {}
    return {"workflow": log.workflow_id, "execution": log.failed_execution, "fix": log.fix_id}


def _header(request: Any) -> dict[str, Any] | None:
    """The `kyra_record` header: Celery exposes custom headers as request attributes, and
    some versions also in `request.headers`."""
    value = getattr(request, HEADER, None)
    if not isinstance(value, dict):
        value = (getattr(request, "headers", None) or {}).get(HEADER)
    return value if isinstance(value, dict) else None
