"""The runtime's healing handler: the embedded worker and the Celery `kyra.heal` task
call it after every failed run and every fix-verification re-run.

Lives in `runtime/` because it joins two layers below it (healing and notifications).
A crash raises, so the runtime retries it with backoff (spec: 3 retries, 60 s × 2^n);
the failed execution is already stored either way.
"""

from __future__ import annotations

import threading

from kyra.app import Kyra
from kyra.engine.events import RunResult
from kyra.healing.factory import make_healer
from kyra.healing.healer import Healer
from kyra.notify import Notifier
from kyra.runtime.handlers import FailureHandlers

HANDLER_NAME = "kyra.heal"
_lock = threading.Lock()


def _healer(app: Kyra) -> Healer:
    with _lock:
        healer = app.__dict__.get("_runtime_healer")
        if healer is None:
            healer = make_healer(app, [Notifier(app)])
            app.__dict__["_runtime_healer"] = healer
        return healer  # type: ignore[no-any-return]


def heal(app: Kyra, result: RunResult) -> None:
    """Hand a finished run to the healing loop (re-runs it plans are durable rows the
    runtime picks up when due)."""
    _healer(app).after_run(result)


def with_healing(handlers: FailureHandlers, enabled: bool = True) -> FailureHandlers:
    """The configured handlers plus Kyra's own healing (first), unless disabled."""
    if enabled and HANDLER_NAME not in handlers.names():
        merged = FailureHandlers({HANDLER_NAME: heal})
        for name in handlers.names():
            merged.register(name, handlers.get(name))
        return merged
    return handlers
