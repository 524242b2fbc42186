"""The lease of a process that runs executions itself, outside any runtime (`kyra run`,
the API's `run?wait=true`).

Such a run used to be `running` with no owner and no lease: a `kill -9` left it
`running` for ever, held by nobody. Now it is held like a runtime worker's: the row is
created with this process's owner id and a lease, a heartbeat thread renews the lease
while the process lives, and when the process dies the lease expires and any runtime's
lease keeper (or the next inline run) puts the execution back in the queue, to resume
after its recorded steps.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from datetime import datetime, timedelta

from kyra.clock import Clock
from kyra.store import Store, queue

log = logging.getLogger("kyra.engine.lease")

DEFAULT_LEASE = timedelta(seconds=30)


def inline_owner() -> str:
    """`inline:<host>:<pid>:<random>`: the random part keeps a reused pid from inheriting
    a dead process's leases."""
    return f"inline:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class ProcessLease:
    """One owner id for every execution this process runs inline, renewed by a heartbeat
    (one statement for all of them). Use as a context manager around the runs."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        lease: timedelta = DEFAULT_LEASE,
        heartbeat: timedelta | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.lease = lease
        self.heartbeat = heartbeat or lease / 3
        self.owner = inline_owner()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._users = 0
        self._lock = threading.Lock()

    def until(self) -> datetime:
        """Where a lease taken now ends (the heartbeat pushes it on)."""
        return self.clock.now() + self.lease

    def start(self) -> ProcessLease:
        """Start the heartbeat (nested starts share it); first hand back to the queue any
        execution whose holder died without a runtime around to notice."""
        with self._lock:
            self._users += 1
            if self._thread is not None:
                return self
            reclaimed = queue.reclaim_expired(self.store, self.clock.now())
            if reclaimed:
                log.warning("reclaimed %d execution(s) with expired leases", len(reclaimed))
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name="kyra-inline-lease", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users > 0 or self._thread is None:
                return
            thread, self._thread = self._thread, None
        self._stop.set()
        thread.join(timeout=10)

    def renew(self) -> None:
        queue.renew_leases(self.store, self.owner, self.until())

    def _loop(self) -> None:
        while not self._stop.wait(self.heartbeat.total_seconds()):
            try:
                self.renew()
            except Exception:  # a database hiccup must not end the heartbeat
                log.exception("renewing inline leases failed; retrying")

    def __enter__(self) -> ProcessLease:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
