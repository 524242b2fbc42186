"""Failure handlers the runtime processes under test load by import path
(`KYRA_RUNTIME_FAILURE_HANDLERS`). They stand in for healing: record the call, and
schedule a re-run like the healer will."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

from kyra.app import Kyra
from kyra.engine.events import RunResult
from kyra.runtime.handlers import schedule_rerun


def _log(event: str, result: RunResult) -> int:
    """Append one line to $KYRA_TEST_HANDLER_LOG; returns how many lines it now has for
    this execution and event."""
    path = Path(os.environ["KYRA_TEST_HANDLER_LOG"])
    with path.open("a") as out:
        out.write(json.dumps({"event": event, "execution": result.execution_id, "t": time.time()}))
        out.write("\n")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return sum(1 for x in lines if x["event"] == event and x["execution"] == result.execution_id)


def rerun_soon(app: Kyra, result: RunResult) -> None:
    """Re-run the failed execution from its failed step one second from now."""
    _log("rerun", result)
    if result.error_context is None:
        raise RuntimeError("a failed run must carry its error context")
    schedule_rerun(app, result.execution_id, app.clock.now() + timedelta(seconds=1))


def flaky_twice(app: Kyra, result: RunResult) -> None:
    """Fails on its first two calls for an execution, then succeeds (backoff test)."""
    if _log("flaky", result) <= 2:
        raise RuntimeError("healer hiccup")
