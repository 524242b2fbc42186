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

import contextlib
import functools
import heapq
import itertools
import logging
import os
import socket
import threading
from collections import deque
from collections.abc import Callable
from datetime import timedelta

from kyra.app import Kyra
from kyra.engine.events import RunResult
from kyra.engine.run_state import Parked, ParkMode
from kyra.errors import ConflictError, NotFoundError
from kyra.runtime.settings import RuntimeSettings
from kyra.store import executions as exec_store
from kyra.store import queue, workers
from kyra.store.queue import Claimed
from kyra.store.workers import WorkerBeat

log = logging.getLogger("kyra.runtime.worker")

DRAIN_CHECK_SECONDS = 0.05
"""How often a draining pool looks whether a second signal cut the drain short."""


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
        self.last_beat = app.clock.monotonic()
        """Monotonic time of the last heartbeat that reached the database."""

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
        self.last_beat = self.app.clock.monotonic()
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
    """`concurrency` threads running executions from the durable queue.

    A worker with nothing to do claims a batch for the pool (its free workers plus
    `prefetch`, one transaction), keeps the first and leaves the rest to the others.
    Only one worker claims at a time, so idle threads never contend for the database's
    write lock; and no thread hands work to another unless there is more than one
    execution to run, because every hand-over between busy Python threads costs a wait
    for the GIL (a claimer thread feeding the workers cost a third of the throughput).

    A run that must wait (a paced rate limit, an open circuit, a retry backoff) comes back
    `Parked`: it waits in `_parked` (a heap by due time, leases still held and renewed)
    while its worker runs other work, and the first free worker resumes it when due, ahead
    of new claims. With `park=DURABLE` (Celery) long waits are parked in the database.
    """

    def __init__(
        self,
        app: Kyra,
        settings: RuntimeSettings,
        *,
        owner: str,
        on_failed: Callable[[RunResult], None] | None = None,
        park: ParkMode = ParkMode.MEMORY,
    ) -> None:
        self.app = app
        self.settings = settings
        self.owner = owner
        self._on_failed = on_failed
        self._park = park
        self._executor = app.executor()
        self._threads: list[threading.Thread] = []
        self._parked: list[tuple[float, int, Parked]] = []
        self._seq = itertools.count()
        self._ready: deque[Claimed] = deque()
        self._claiming = threading.Lock()
        self._stopping = threading.Event()
        self._cond = threading.Condition()
        self._pending = True
        self._running: set[str] = set()
        self._closed = False
        """Set by `stop` once it has taken stock: a run not started by then never starts
        here (its lease goes back with the rest)."""
        self.processed = 0

    @property
    def running(self) -> list[str]:
        with self._cond:
            return sorted(self._running)

    def alive(self) -> int:
        """Worker threads still running (a thread that died is a bug, but it is seen)."""
        return sum(1 for thread in self._threads if thread.is_alive())

    def load(self) -> tuple[int, int]:
        with self._cond:
            return len(self._running), self.processed

    def start(self) -> None:
        for n in range(self.settings.concurrency):
            thread = threading.Thread(target=self._work, name=f"kyra-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self, *_args: object) -> None:
        """New work is due (a trigger fired, an execution was queued): look now."""
        with self._cond:
            self._pending = True
            self._cond.notify_all()

    def stop(self, drain: float, cut: threading.Event | None = None) -> list[str]:
        """Stop claiming; wait up to `drain` seconds for running executions, or until
        `cut` is set (a second SIGTERM/SIGINT); hand the rest (and anything claimed but
        not started) back to the queue. Returns the ids handed back."""
        self._stopping.set()
        self.wake()
        deadline = self.app.clock.monotonic() + drain
        cut = cut or threading.Event()
        for thread in self._threads:
            # Short waits on `cut` rather than one join: a signal handler can only set an
            # event, and the drain must end as soon as it does.
            while thread.is_alive() and not cut.is_set():
                left = deadline - self.app.clock.monotonic()
                if left <= 0:
                    break
                thread.join(timeout=min(left, DRAIN_CHECK_SECONDS))
        return self._hand_back()

    def _hand_back(self) -> list[str]:
        """After the drain: park the parked runs in the database and give every other
        run this process holds back to the queue."""
        # A claim racing the hand-back would leave its runs `running` under the lease of
        # a process about to exit (until the lease expired): wait out one in flight;
        # later ones see `_stopping`.
        with self._claiming, self._cond:
            self._closed = True
            unstarted = [claimed.id for claimed in self._ready]
            self._ready.clear()
            parked, self._parked = self._parked, []
        for _, _, waiting in parked:  # their waits go on in the database
            try:
                self._executor.park_durably(waiting)
            except Exception:
                log.exception("could not park %s; handing it back", waiting.execution_id)
                unstarted.append(waiting.execution_id)
        left = unstarted + self.running
        # By owner, not by id: a thread may hold a run it took from a claim or the parked
        # heap and has not started (it never will: `_closed`).
        if queue.release_leases(self.app.store, self.owner) or left:
            log.warning("handed %d unfinished execution(s) back to the queue", len(left))
        return left

    def _work(self) -> None:
        while not self._stopping.is_set():
            work = self._next()
            if isinstance(work, Parked):
                self._run(work.execution_id, functools.partial(self._executor.resume, work))
            elif work is not None:
                self.run_claimed(work)

    def _due_parked(self) -> Parked | None:
        if not self._parked:
            return None
        with self._cond:
            if self._parked and self._parked[0][0] <= self.app.clock.monotonic():
                return heapq.heappop(self._parked)[2]
        return None

    def _next(self) -> Claimed | Parked | None:
        """The next execution to run: a parked one that is due, one claimed ahead, or a
        fresh batch; None after waiting (for a wake-up, the next parked run's due time or
        the poll interval) when nothing is due."""
        due = self._due_parked()
        if due is not None:
            return due
        with contextlib.suppress(IndexError):
            return self._ready.popleft()
        if self._claiming.acquire(blocking=False):
            try:
                batch = self._claim()
            finally:
                self._claiming.release()
            if batch:
                self._ready.extend(batch[1:])
                if len(batch) > 1:
                    self.wake()
                return batch[0]
        with self._cond:
            if not self._pending and not self._ready and not self._stopping.is_set():
                wait = self.settings.poll_seconds
                if self._parked:
                    wait = min(wait, max(0.0, self._parked[0][0] - self.app.clock.monotonic()))
                self._cond.wait(wait)
            self._pending = False
        return None

    def _claim(self) -> list[Claimed]:
        if self._stopping.is_set():
            return []
        with self._cond:
            if len(self._parked) >= self.settings.max_parked:
                return []  # enough runs wait in memory: finish some before taking more
            free = self.settings.concurrency - len(self._running) - len(self._ready)
        limit = max(1, free) + self.settings.prefetch
        now, lease = self.app.clock.now(), self.settings.lease
        try:
            return queue.claim_due(self.app.store, self.owner, now, now + lease, limit)
        except Exception:
            log.exception("claiming failed; retrying")
            return []

    def run_claimed(self, claimed: Claimed) -> RunResult | None:
        """Run an execution this process has claimed; None if it did not run (or was
        parked in memory: it finishes later on another turn of a worker)."""
        store, execution_id = self.app.store, claimed.id
        if claimed.claims > self.settings.max_claims:
            log.error("execution %s abandoned after %d claims", execution_id, claimed.claims - 1)
            exec_store.finish_execution(store, execution_id, "failed")
            return None
        return self._run(
            execution_id,
            lambda: self._executor.start(execution_id, park=self._park),
            claims=claimed.claims,
        )

    def _run(
        self,
        execution_id: str,
        work: Callable[[], RunResult | Parked],
        claims: int = 1,
    ) -> RunResult | None:
        store = self.app.store
        with self._cond:
            if self._closed:  # taken before the stop, its lease handed back by it
                return None
            self._running.add(execution_id)
        try:
            result = work()
        except (ConflictError, NotFoundError):
            log.info("execution %s finished or vanished meanwhile; skipped", execution_id)
            return None
        except Exception:
            log.exception("execution %s crashed the executor; re-queued", execution_id)
            retry_at = self.app.clock.now() + timedelta(seconds=min(60, 2**claims))
            queue.release_leases(store, self.owner, [execution_id], run_at=retry_at)
            return None
        finally:
            with self._cond:
                self._running.discard(execution_id)
        if isinstance(result, Parked):
            self._hold(result)
            return None
        with self._cond:
            self.processed += 1
        if result.needs_after_run and self._on_failed is not None:
            self._on_failed(result)
        return result

    def _hold(self, parked: Parked) -> None:
        """Keep a parked run until it is due; wake a worker if it is due before the others."""
        with self._cond:
            earliest = not self._parked or parked.until < self._parked[0][0]
            heapq.heappush(self._parked, (parked.until, next(self._seq), parked))
            if earliest:
                self._cond.notify()
