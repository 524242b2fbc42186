"""Extra worker processes for `kyra serve --processes N`: one Python process runs on one
core at a time (the GIL), so a machine with more cores runs more processes.

Each extra process is `kyra serve --no-scheduler --no-api` on the same database and
settings: it claims from the same durable queue (leases keep two processes off one
execution) and heals its own failures (the healing lock serialises per workflow). This
parent keeps the scheduler, the API and its own workers, restarts a worker process
that dies, and on stop sends SIGTERM so each drains as `kyra serve` does. A worker
process whose parent vanished (`kill -9`) stops by itself: its leases are released or
expire, and nothing is lost.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

log = logging.getLogger("kyra.runtime.processes")

PARENT_ENV = "KYRA_SERVE_PARENT_PID"
"""Set in a worker process: the pid of the `kyra serve` that started it."""
RESTART_BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)


def parent_pid() -> int | None:
    """The supervising `kyra serve`, when this process is one of its workers."""
    value = os.environ.get(PARENT_ENV)
    return int(value) if value and value.isdigit() else None


def parent_alive(pid: int | None) -> bool:
    return pid is None or os.getppid() == pid


class WorkerProcesses:
    """Starts, watches and stops `count` worker processes."""

    def __init__(self, count: int, *, concurrency: int, heal: bool) -> None:
        self.count = count
        self.args = [
            sys.executable,
            "-m",
            "kyra.cli",
            "serve",
            "--no-scheduler",
            "--no-api",
            "--concurrency",
            str(concurrency),
            "--heal" if heal else "--no-heal",
        ]
        self.procs: list[subprocess.Popen[bytes]] = []
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self.procs = [self._spawn() for _ in range(self.count)]
        self._watcher = threading.Thread(
            target=self._watch, name="kyra-process-watcher", daemon=True
        )
        self._watcher.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, PARENT_ENV: str(os.getpid())}
        # Its own process group: Ctrl+C in a terminal reaches only this parent, which
        # then sends each worker one SIGTERM (a second signal would skip the drain).
        return subprocess.Popen(
            self.args, env=env, stdout=subprocess.DEVNULL, start_new_session=True
        )

    def _watch(self) -> None:
        failures = 0
        while not self._stopping.wait(0.5):
            for n, proc in enumerate(self.procs):
                code = proc.poll()
                if code is None or self._stopping.is_set():
                    continue
                delay = RESTART_BACKOFF_SECONDS[min(failures, len(RESTART_BACKOFF_SECONDS) - 1)]
                log.error(
                    "worker process %d exited with %s; restarting in %.0f s", proc.pid, code, delay
                )
                failures += 1
                if self._stopping.wait(delay):
                    return
                self.procs[n] = self._spawn()

    def terminate(self) -> None:
        """SIGTERM to every worker process: each stops claiming and drains (called again,
        a second SIGTERM: each hands its work back at once)."""
        self._stopping.set()
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    def wait(self, drain: float) -> None:
        """Wait for the worker processes to drain; kill any that outlives the drain."""
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        deadline = time.monotonic() + drain + 15
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker process %d did not stop; killed", proc.pid)
                proc.kill()
                proc.wait()
