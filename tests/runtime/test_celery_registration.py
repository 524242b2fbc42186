"""A Celery worker shows in `kyra status` as soon as it is up, before its first task:
an operator scaling out checks that the new workers are there before sending work."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kyra.store import workers
from tests.runtime.conftest import Harness
from tests.waiting import wait_for


@pytest.mark.postgres
@pytest.mark.redis
def test_an_idle_celery_worker_registers_at_start(runtime_celery: Harness) -> None:
    runtime = runtime_celery
    since = runtime.app.clock.now() - timedelta(seconds=1)
    runtime.start_worker()

    def celery_beats() -> list[workers.WorkerBeat]:
        return [w for w in workers.workers(runtime.app.store, since) if w.kind == "celery"]

    beats = wait_for(celery_beats, 60, "the idle Celery worker's heartbeat")
    assert beats[0].running == 0
    assert beats[0].processed == 0
    assert beats[0].stopped_at is None
