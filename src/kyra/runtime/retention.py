"""Prunes old executions in the background of `kyra serve` and `kyra scheduler`
(`KYRA_RETENTION_DAYS`), so a long-running install does not grow without bound.

One thread, one prune per interval (the first at start-up); a failed prune is logged and
tried again at the next interval. Several processes pruning at once is harmless (each
batch deletes what is still there), so nothing elects a single pruner.
"""

from __future__ import annotations

import logging
import threading

from kyra.app import Kyra
from kyra.store.retention import prune_executions

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 3600.0


class RetentionLoop:
    def __init__(self, app: Kyra, days: float, interval: float = INTERVAL_SECONDS) -> None:
        self.app = app
        self.days = days
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.pruned = 0

    def start(self) -> RetentionLoop:
        self._thread = threading.Thread(target=self._loop, name="kyra-retention", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                result = prune_executions(self.app.store, self.days)
            except Exception:
                log.exception("pruning old executions failed; trying again later")
            else:
                self.pruned += result.executions
                if result.executions:
                    log.info(
                        "retention: deleted %d execution(s) and %d step(s) older than %s",
                        result.executions,
                        result.steps,
                        result.cutoff.isoformat(timespec="seconds"),
                    )
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def start_retention(app: Kyra) -> RetentionLoop | None:
    """The loop when `KYRA_RETENTION_DAYS` is set, else None."""
    days = app.settings.retention_days
    return RetentionLoop(app, days).start() if days else None
