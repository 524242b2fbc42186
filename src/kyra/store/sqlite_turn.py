"""Write turns for SQLite shared by several threads and processes.

Every Kyra transaction on SQLite is `BEGIN IMMEDIATE`, so SQLite serialises them; but a
connection that finds the database locked waits in SQLite's busy handler, which sleeps
1, 2, 5, 10... ms between tries. With two worker processes committing a few thousand
short transactions a second, those sleeps, not the work, set the pace.

A turn is an advisory `flock` on `<database>-turn`, taken before `BEGIN IMMEDIATE` and
given back when the connection returns to the pool. Threads of one process queue on a
lock; the first in line polls the file lock every 0.1 ms (a bounded wait: after the
busy timeout the transaction goes ahead and SQLite decides, so a stuck holder can delay
but never deadlock anybody). Each pooled connection has its
own descriptor, so threads exclude each other as processes do; a thread that opens a
second connection while holding a turn does not wait for itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from typing import Any

POLL_SECONDS = 0.0001


class WriterTurns:
    def __init__(self, database: str, timeout: float) -> None:
        self.path = f"{database}-turn"
        self.timeout = timeout
        self._holders: set[int] = set()
        self._here = threading.Lock()

    def open(self, info: dict[str, Any]) -> None:
        """Give a new pooled connection its own descriptor on the turn file."""
        info["kyra_turn_fd"] = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def close(self, info: dict[str, Any]) -> None:
        self.give_back(info)  # a connection closed while holding its turn (invalidated)
        fd = info.pop("kyra_turn_fd", None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def take(self, info: Any) -> None:
        fd = info.get("kyra_turn_fd")
        me = threading.get_ident()
        if fd is None or "kyra_turn_holder" in info or me in self._holders:
            return
        deadline = time.monotonic() + self.timeout
        # Threads of this process queue on a lock (woken at once, no polling); only the
        # one at the head of the queue polls the file lock other processes share.
        if not self._here.acquire(timeout=self.timeout):
            return
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self._here.release()
                    return
                time.sleep(POLL_SECONDS)
        info["kyra_turn_holder"] = me
        self._holders.add(me)

    def give_back(self, info: dict[str, Any]) -> None:
        holder = info.pop("kyra_turn_holder", None)
        if holder is None:
            return
        self._holders.discard(holder)
        try:
            fcntl.flock(info["kyra_turn_fd"], fcntl.LOCK_UN)
        finally:
            self._here.release()
