"""The Celery app the integration tests run in a real worker (`-A tests.integrations.celery_tasks`).

Broker, backend and queue come from the environment the test gives the worker.
"""

from __future__ import annotations

import os
import time

import httpx
from celery import Celery

from kyra.integrations.celery import HealingTask

app = Celery("kyra-integration-tests")
app.conf.update(
    broker_url=os.environ.get("KYRA_TEST_CELERY_BROKER", "redis://127.0.0.1:6379/0"),
    result_backend=os.environ.get("KYRA_TEST_CELERY_BACKEND", "redis://127.0.0.1:6379/0"),
    task_default_queue=os.environ.get("KYRA_TEST_CELERY_QUEUE", "kyra-integration-tests"),
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(base=HealingTask, bind=True, name="kyra_tests.fetch", kyra_fallback=lambda n: 0.05)
def fetch(self: HealingTask, url: str) -> int:
    response = httpx.get(url, timeout=5)
    response.raise_for_status()
    return response.status_code


@app.task(
    base=HealingTask,
    bind=True,
    name="kyra_tests.fetch_paced",
    kyra_fallback=lambda n: 0.05,
    kyra_pace_key=lambda task, args, kwargs: "fault-server",
)
def fetch_paced(self: HealingTask, url: str) -> float:
    """Returns when (epoch seconds) its successful request was sent."""
    sent = time.time()
    response = httpx.get(url, timeout=5)
    response.raise_for_status()
    return sent
