"""`kyra scheduler` for the scale-out runtime: fires triggers and sends due executions
to Celery. The database decides; the broker only carries.

Each tick, in order:

1. fire due triggers (the same `Scheduler` as the embedded runtime: compare-and-set on
   `schedules`, so a second scheduler started by mistake fires nothing twice);
2. put executions whose worker stopped renewing its lease back in the queue;
3. mark due queued/waiting executions as sent (`lease_owner='dispatched'` until
   `redispatch_seconds` from now, rows locked with `SKIP LOCKED`) and send one
   `kyra.execute` each. A message the broker loses is sent again when the mark expires;
   a duplicate is harmless (the worker's claim refuses it).
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from types import FrameType
from typing import TYPE_CHECKING

from kyra.app import Kyra
from kyra.runtime.celery_app import EXECUTE
from kyra.runtime.scheduler import Scheduler, runtime_id
from kyra.runtime.settings import RuntimeSettings
from kyra.runtime.worker import LeaseKeeper
from kyra.store import queue

if TYPE_CHECKING:
    from celery import Celery  # type: ignore[import-untyped]

log = logging.getLogger("kyra.runtime.dispatch")


class Dispatcher:
    """The scale-out scheduler process."""

    def __init__(self, app: Kyra, runtime: RuntimeSettings, celery: Celery) -> None:
        self.app = app
        self.runtime = runtime
        self.celery = celery
        self.owner = runtime_id("scheduler")
        self.scheduler = Scheduler(
            app.store,
            app.clock,
            runtime,
            owner=self.owner,
            min_interval=app.settings.min_trigger_interval_seconds,
        )
        self.keeper = LeaseKeeper(
            app, runtime, owner=self.owner, kind="scheduler", concurrency=0, reclaim=False
        )
        self.sent = 0
        self._stop = threading.Event()

    def tick(self) -> int:
        """One round: fire, reclaim, dispatch; returns the number of messages sent."""
        self.scheduler.tick()
        now = self.app.clock.now()
        reclaimed = queue.reclaim_expired(self.app.store, now)
        if reclaimed:
            log.warning("reclaimed %d execution(s) with expired leases", len(reclaimed))
        resend_at = now + timedelta(seconds=self.runtime.redispatch_seconds)
        sent = 0
        while True:
            ids = queue.mark_dispatched(self.app.store, now, resend_at, self.runtime.fire_batch)
            if not ids:
                break
            self._send(ids)
            sent += len(ids)
            if len(ids) < self.runtime.fire_batch:
                break
        self.sent += sent
        return sent

    def _send(self, ids: list[str]) -> None:
        try:
            with self.celery.producer_or_acquire() as producer:
                for execution_id in ids:
                    self.celery.send_task(
                        EXECUTE, args=[execution_id], queue=self.runtime.queue, producer=producer
                    )
        except Exception:
            queue.unmark_dispatched(self.app.store, ids)
            raise

    def stop(self) -> None:
        self._stop.set()

    def serve(self, *, install_signals: bool = True) -> None:
        """Tick until SIGTERM/SIGINT."""
        if install_signals:

            def _on_signal(signum: int, frame: FrameType | None) -> None:
                self._stop.set()

            signal.signal(signal.SIGTERM, _on_signal)
            signal.signal(signal.SIGINT, _on_signal)
        self.keeper.start()
        try:
            while not self._stop.is_set():
                try:
                    self.tick()
                except Exception:
                    log.exception("scheduler tick failed; retrying")
                self._stop.wait(self.runtime.scheduler_tick_seconds)
        finally:
            self.keeper.stop()
