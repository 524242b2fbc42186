"""Real Prefect 3 flow runs with Kyra's retry condition and hooks (run by test_prefect.py
with the .venv-prefect interpreter; argv[1] is the fault server's URL)."""

from __future__ import annotations

import json
import sys

import httpx
from prefect import flow, task

from kyra.integrations.prefect import healing_task_options, on_failure

BASE = sys.argv[1]


@task(**healing_task_options(retries=4, fallback=lambda n: 0.05))
def fetch(path: str) -> int:
    response = httpx.get(BASE + path, timeout=5)
    response.raise_for_status()
    return response.status_code


@flow(on_failure=[on_failure])
def healed() -> list[int]:
    return [fetch("/flaky/p?fail=2&status=503"), fetch("/flaky/q?fail=1&status=429&retry_after=1")]


@flow(on_failure=[on_failure])
def unauthorised() -> int:
    return fetch("/auth")


if __name__ == "__main__":
    out = {"healed": healed()}
    state = unauthorised(return_state=True)
    out["unauthorised"] = state.type.value
    print(json.dumps(out))
