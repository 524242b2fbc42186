"""The runtime's healing handler: the embedded worker and the Celery `kyra.heal` task
call it after every failed run and every fix-verification re-run.

The healer (with its notifier) is the app's (`Kyra.healer`), built once per process.
A crash raises, so the runtime retries it with backoff (spec: 3 retries, 60 s × 2^n);
the failed execution is already stored either way.
"""

from __future__ import annotations

from kyra.app import Kyra
from kyra.engine.events import RunResult
from kyra.runtime.handlers import FailureHandlers

HANDLER_NAME = "kyra.heal"


def heal(app: Kyra, result: RunResult) -> None:
    """Hand a finished run to the app's healer (re-runs it plans are durable rows the
    runtime picks up when due)."""
    app.healer.after_run(result)


def with_healing(handlers: FailureHandlers, enabled: bool = True) -> FailureHandlers:
    """The configured handlers plus Kyra's own healing (first), unless disabled."""
    if enabled and HANDLER_NAME not in handlers.names():
        merged = FailureHandlers({HANDLER_NAME: heal})
        for name in handlers.names():
            merged.register(name, handlers.get(name))
        return merged
    return handlers
