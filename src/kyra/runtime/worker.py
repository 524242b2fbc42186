"""Embedded workers: threads that claim due executions with a lease and run them, and
the lease keeper that renews those leases while the process lives.

A lease belongs to the process (`owner`), not to a thread: one heartbeat statement
renews every execution the process holds. When the process dies (`kill -9`, power
loss), renewals stop, the leases expire after `lease_seconds`, and any runtime's
keeper puts the executions back in the queue; the executor then resumes each one after
its recorded steps. That is at-least-once for the step in flight, never for a finished
step, and never two live holders of one execution (see docs/runtime.md).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from queue import SimpleQueue

from kyra.app import Kyra
from kyra.engine.events import RunResult
from kyra.errors import ConflictError, NotFoundError
from kyra.runtime.settings import RuntimeSettings
from kyra.store import executions as exec_store
from kyra.store import queue, workers
from kyra.store.queue import Claimed
from kyra.store.workers import WorkerBeat

log = logging.getLogger("kyra.runtime.worker")


class LeaseKeeper:
    """Renews this process's leases, records its heartbeat, and (optionally) reclaims
    executions whose owners stopped renewing."""

    def __init__(
        self,
        app: Kyra,
        settings: RuntimeSettings,
        *,
        owner: str,
        kind: str,
        concurrency: int,
        load: Callable[[], tuple[int, int]] = lambda: (0, 0),
        reclaim: bool = True,
        on_reclaimed: Callable[[list[str]], None] | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.owner = owner
        self.kind = kind
        self.concurrency = concurrency
        self._load = load
        self._reclaim = reclaim
        self._on_reclaimed = on_reclaimed
        self._started_at = app.clock.now()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.beat()
        self._thread = threading.Thread(target=self._loop, name="kyra-lease-keeper", daemon=True)
        self._thread.start()

    def beat(self, *, stopped: bool = False) -> None:
        """One heartbeat: renew leases, record health, reclaim expired leases."""
        now = self.app.clock.now()
        queue.renew_leases(self.app.store, self.owner, now + self.settings.lease)
        running, processed = self._load()
        host, pid = socket.gethostname(), os.getpid()
        workers.beat(
            self.app.store,
            WorkerBeat(
                self.owner,
                self.kind,
                host,
                pid,
                self.concurrency,
                running,
                processed,
                self._started_at,
                now,
                now if stopped else None,
            ),
        )
        if self._reclaim and not stopped:
            reclaimed = queue.reclaim_expired(self.app.store, now)
            if reclaimed:
                log.warning("reclaimed %d execution(s) with expired leases", len(reclaimed))
                if self._on_reclaimed is not None:
                    self._on_reclaimed(reclaimed)

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.heartbeat):
            try:
                self.beat()
            except Exception:  # a database hiccup must not kill the keeper
                log.exception("heartbeat failed; retrying")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.beat(stopped=True)
        except Exception:
            log.exception("last heartbeat failed")


class WorkerPool:
    """`concurrency` threads running executions that one claimer thread takes from the
    queue in batches (one transaction for several claims, and no writer contention
    between idle threads polling the database)."""

    def __init__(
        self,
        app: Kyra,
        settings: RuntimeSettings,
        *,
        owner: str,
        on_failed: Callable[[RunResult], None] | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.owner = owner
        self._on_failed = on_failed
        self._executor = app.executor()
        self._threads: list[threading.Thread] = []
        self._claimer: threading.Thread | None = None
        self._inbox: SimpleQueue[Claimed | None] = SimpleQueue()
        self._stopping = threading.Event()
        self._cond = threading.Condition()
        self._pending = False
        self._idle = 0
        self._running: set[str] = set()
        self.processed = 0

    @property
    def running(self) -> list[str]:
        with self._cond:
            return sorted(self._running)

    def load(self) -> tuple[int, int]:
        with self._cond:
            return len(self._running), self.processed

    def start(self) -> None:
        for n in range(self.settings.concurrency):
            thread = threading.Thread(target=self._work, name=f"kyra-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._claimer = threading.Thread(target=self._claim_loop, name="kyra-claimer", daemon=True)
        self._claimer.start()

    def wake(self, *_args: object) -> None:
        """New work is due (a trigger fired, an execution was queued): look now."""
        with self._cond:
            self._pending = True
            self._cond.notify_all()

    def stop(self, drain: float) -> list[str]:
        """Stop claiming; wait up to `drain` seconds for running executions; hand the
        rest (and anything claimed but not started) back to the queue. Returns the ids
        handed back."""
        self._stopping.set()
        self.wake()
        if self._claimer is not None:
            self._claimer.join(timeout=10)
        unstarted: list[str] = []
        while not self._inbox.empty():
            item = self._inbox.get()
            if item is not None:
                unstarted.append(item.id)
        for _ in self._threads:
            self._inbox.put(None)
        deadline = self.app.clock.monotonic() + drain
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - self.app.clock.monotonic()))
        left = unstarted + self.running
        if left:
            queue.release_leases(self.app.store, self.owner, left)
            log.warning("handed %d unfinished execution(s) back to the queue", len(left))
        return left

    def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            with self._cond:
                free = self._idle - self._inbox.qsize()
                if free <= 0 or not self._pending:
                    # Idle, or everyone busy: look again on a wake-up or after a poll.
                    self._cond.wait(self.settings.poll_seconds)
                    self._pending = self._pending or free > 0
                    continue
                self._pending = False
            now = self.app.clock.now()
            try:
                batch = queue.claim_due(
                    self.app.store, self.owner, now, now + self.settings.lease, free
                )
            except Exception:
                log.exception("claiming failed; retrying")
                batch = []
            for claimed in batch:
                self._inbox.put(claimed)
            if len(batch) == free:
                self._pending = True  # there may be more

    def _work(self) -> None:
        while True:
            with self._cond:
                self._idle += 1
                self._pending = True
                self._cond.notify_all()
            claimed = self._inbox.get()
            with self._cond:
                self._idle -= 1
            if claimed is None:
                return
            self.run_claimed(claimed)

    def run_claimed(self, claimed: Claimed) -> RunResult | None:
        """Run an execution this process has claimed; None if it did not run."""
        store, execution_id = self.app.store, claimed.id
        if claimed.claims > self.settings.max_claims:
            log.error("execution %s abandoned after %d claims", execution_id, claimed.claims - 1)
            exec_store.finish_execution(store, execution_id, "failed")
            return None
        with self._cond:
            self._running.add(execution_id)
        try:
            result = self._executor.execute(execution_id)
        except (ConflictError, NotFoundError):
            log.info("execution %s finished or vanished meanwhile; skipped", execution_id)
            return None
        except Exception:
            log.exception("execution %s crashed the executor; re-queued", execution_id)
            retry_at = self.app.clock.now() + timedelta(seconds=min(60, 2**claimed.claims))
            queue.release_leases(store, self.owner, [execution_id], run_at=retry_at)
            return None
        finally:
            with self._cond:
                self._running.discard(execution_id)
                self.processed += 1
        if result.needs_after_run and self._on_failed is not None:
            self._on_failed(result)
        return result
