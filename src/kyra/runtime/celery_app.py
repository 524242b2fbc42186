"""Scale-out runtime: Celery workers (Redis or RabbitMQ broker) over PostgreSQL.

    settings = Settings()    # KYRA_BROKER_URL, KYRA_DATABASE_URL, KYRA_RUNTIME_*...
    celery = make_celery(settings, settings.runtime)
    celery.worker_main(["worker", "--pool=threads", "-c", "8", "-Q", "kyra"])

Tasks:

* `kyra.execute(execution_id)`: claim the execution in the database (the claim, not the
  broker, decides who runs it: a redelivered or duplicated message finds it held or
  finished and does nothing), run it under a renewed lease, then enqueue one
  `kyra.heal` per failure handler if it failed.
* `kyra.heal(execution_id, handler)`: call a run-failed handler under the workflow's
  healing lock; a raising handler is retried after base × 2^n seconds, at most
  `heal_max_retries` times (the spec's `auto_healing_worker`).

Messages are acknowledged late (`acks_late`, `task_reject_on_worker_lost`, prefetch 1),
so a worker killed mid-execution leaves the message to the broker (RabbitMQ redelivers
at once, Redis after `visibility_timeout`). The database is the source of truth either
way: the scheduler (`kyra scheduler`, see `dispatch.py`) reclaims expired leases and
re-sends executions the broker lost.

Celery is an optional extra, so it is imported here only, inside the factory.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kyra.app import Kyra, create_app
from kyra.engine.events import RunResult
from kyra.engine.run_state import ParkMode
from kyra.runtime.handlers import (
    FailureHandlers,
    handle_failure,
    heal_backoff,
    run_result_of,
)
from kyra.runtime.scheduler import runtime_id
from kyra.runtime.settings import RuntimeSettings
from kyra.runtime.worker import LeaseKeeper, WorkerPool
from kyra.settings import Settings
from kyra.store import queue

if TYPE_CHECKING:
    from celery import Celery  # type: ignore[import-untyped]

log = logging.getLogger("kyra.runtime.celery")

EXECUTE = "kyra.execute"
HEAL = "kyra.heal"


@dataclass
class _WorkerState:
    """Per-process worker state, built on first use after Celery forked or started."""

    settings: Settings
    runtime: RuntimeSettings
    handlers: FailureHandlers
    pid: int = 0
    app: Kyra | None = None
    owner: str = ""
    pool: WorkerPool | None = None
    keeper: LeaseKeeper | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ready(self) -> tuple[Kyra, WorkerPool]:
        with self.lock:
            if self.app is None or self.pid != os.getpid():
                self.pid = os.getpid()
                self.app = create_app(self.settings)
                self.owner = runtime_id("celery")
                self.pool = WorkerPool(
                    self.app, self.runtime, owner=self.owner, park=ParkMode.DURABLE
                )
                self.keeper = LeaseKeeper(
                    self.app,
                    self.runtime,
                    owner=self.owner,
                    kind="celery",
                    concurrency=self.runtime.concurrency,
                    load=self.pool.load,
                    reclaim=False,  # the scheduler reclaims; workers only renew
                )
                self.keeper.start()
            assert self.pool is not None
            return self.app, self.pool

    def close(self) -> None:
        with self.lock:
            if self.keeper is not None:
                self.keeper.stop()
            if self.app is not None:
                self.app.close()
            self.app = self.pool = self.keeper = None


def celery_config(settings: Settings, runtime: RuntimeSettings) -> dict[str, Any]:
    """Celery settings the way its users expect them for at-least-once work."""
    if not settings.broker_url:
        raise ValueError("the scale-out runtime needs KYRA_BROKER_URL (redis:// or amqp://)")
    return {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": runtime.visibility_timeout_seconds,
            "unacked_restore_interval": max(1.0, min(10.0, runtime.visibility_timeout_seconds)),
            "unacked_restore_throttle": 1,
        },
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": runtime.queue,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "worker_hijack_root_logger": False,
        # Kyra's own logging (KYRA_LOG_FORMAT) writes stderr; Celery must not swap it.
        "worker_redirect_stdouts": False,
        "worker_send_task_events": False,
        "worker_enable_remote_control": False,
        "broker_heartbeat": 10,
    }


def make_celery(
    settings: Settings, runtime: RuntimeSettings, handlers: FailureHandlers | None = None
) -> Celery:
    """The Celery app with Kyra's tasks, configured from Kyra's settings."""
    # Celery is an optional extra: imported only when the scale-out runtime is used.
    from celery import Celery
    from celery.signals import worker_ready, worker_shutdown  # type: ignore[import-untyped]

    celery = Celery("kyra", set_as_current=False)
    celery.conf.update(celery_config(settings, runtime))
    handlers = handlers or FailureHandlers.from_paths(runtime.failure_handlers)
    state = _WorkerState(settings, runtime, handlers)
    celery.kyra_state = state
    queue_name = runtime.queue
    heal_lock = timedelta(seconds=runtime.heal_lock_seconds)

    @celery.task(  # type: ignore[untyped-decorator]
        name=EXECUTE, bind=True, acks_late=True, ignore_result=True
    )
    def execute(self: Any, execution_id: str) -> str:
        app, pool = state.ready()
        now = app.clock.now()
        claimed = queue.claim(app.store, execution_id, state.owner, now, now + runtime.lease)
        if claimed is None:
            return "skipped"  # finished, or another worker holds a live lease
        result = pool.run_claimed(claimed)
        if result is not None and result.needs_after_run:
            send_heals(result)
        return result.status if result is not None else "requeued"

    def send_heals(result: RunResult) -> None:
        for name in handlers.names():
            heal.apply_async((result.execution_id, name), queue=queue_name)

    @celery.task(  # type: ignore[untyped-decorator]
        name=HEAL, bind=True, acks_late=True, ignore_result=True, max_retries=None
    )
    def heal(self: Any, execution_id: str, handler: str) -> str:
        app, _pool = state.ready()
        try:
            result = run_result_of(app, execution_id)
            handle_failure(
                app,
                handlers.get(handler),
                result,
                owner=state.owner,
                lock=heal_lock,
            )
        except Exception as exc:
            retries = int(self.request.retries)
            if retries >= runtime.heal_max_retries:
                log.error("failure handler %s gave up on %s", handler, execution_id)
                raise
            countdown = heal_backoff(runtime.heal_backoff_seconds, retries)
            raise self.retry(
                exc=exc, countdown=countdown, max_retries=runtime.heal_max_retries
            ) from exc
        return "healed"

    @worker_ready.connect(weak=False)  # type: ignore[untyped-decorator]
    def _register(sender: Any = None, **_kwargs: Any) -> None:
        # Heartbeat from the start, so `kyra status` lists an idle worker too (the state
        # is otherwise built by the first task). Signals are global: only our own app's.
        if getattr(sender, "app", None) is celery:
            state.ready()

    @worker_shutdown.connect(weak=False)  # type: ignore[untyped-decorator]
    def _close(**_kwargs: Any) -> None:
        state.close()

    return celery


def worker_argv(
    runtime: RuntimeSettings, *, concurrency: int | None = None, loglevel: str = "WARNING"
) -> list[str]:
    """`celery worker` arguments for Kyra: thread pool (executions wait on I/O), our
    queue, no gossip/mingle (they slow start-up and add nothing here). WARNING by
    default: INFO logs every task and HTTP request, a real cost at hundreds per second."""
    return [
        "worker",
        "--pool=threads",
        f"--concurrency={concurrency or runtime.concurrency}",
        f"--queues={runtime.queue}",
        "--without-gossip",
        "--without-mingle",
        f"--loglevel={loglevel}",
    ]
