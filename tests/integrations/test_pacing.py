"""Learned pacing: what one caller learns about a key holds back every caller of it."""

from __future__ import annotations

import threading
import time

import httpx
from tenacity import RetryCallState, retry

from kyra.demo import FaultServer
from kyra.integrations.pacing import OUTAGE_STREAK, PROBE_BASE_SECONDS, Pacer
from kyra.integrations.tenacity import healing_retry


def _in_thread(target: object) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def test_a_retry_after_holds_back_other_callers_first_attempts(fault_server: FaultServer) -> None:
    failed_at: list[float] = []
    sent_at: dict[str, list[float]] = {"a": [], "b": []}
    first_failure = threading.Event()

    def noted(state: RetryCallState) -> None:
        failed_at.append(time.monotonic())
        first_failure.set()

    @retry(**{**healing_retry(key=lambda state: "shared"), "before_sleep": noted})
    def call(who: str, path: str) -> int:
        sent_at[who].append(time.monotonic())
        response = httpx.get(fault_server.url + path, timeout=5)
        response.raise_for_status()
        return response.status_code

    a = _in_thread(lambda: call("a", "/flaky/pa?fail=1&status=429&retry_after=1"))
    assert first_failure.wait(60)
    assert call("b", "/ok") == 200
    a.join(10)
    assert len(sent_at["a"]) == 2 and len(sent_at["b"]) == 1
    # b's first attempt waited for the Retry-After a was given (1 s, never less).
    assert sent_at["b"][0] - failed_at[0] >= 0.95
    assert fault_server.stats()["paths"] == {"/flaky/pa": 2, "/ok": 1}


def test_after_a_lone_failure_one_caller_probes_and_the_others_wait_for_it() -> None:
    pacer = Pacer()
    pacer.failed("k", 5.0, announced=False)  # no Retry-After, first failure: no wait
    assert pacer.before("k") < 1.0  # this caller is the probe
    other_done = threading.Event()
    other = _in_thread(lambda: (pacer.before("k"), other_done.set()))
    assert not other_done.wait(0.2)  # held while the probe is out
    pacer.succeeded("k")
    assert other_done.wait(5)
    other.join(5)


def test_failures_in_a_row_close_the_gate_for_the_backoff() -> None:
    pacer = Pacer()
    pacer.failed("k", 0.3, announced=False)
    for _ in range(OUTAGE_STREAK - 2):
        assert pacer.before("k") < 0.2  # a probe goes at once...
        pacer.failed("k", 0.3, announced=False)  # ...and fails: not yet an outage
    pacer.before("k")
    pacer.failed("k", 0.2, announced=False)  # the streak makes it an outage
    assert pacer.before("k") >= 0.19
    pacer.failed("k", 30.0, announced=False)  # a long own backoff is capped for the others
    assert PROBE_BASE_SECONDS <= pacer.before("k") < 5.0


def test_a_failure_that_says_nothing_about_the_key_frees_the_probe() -> None:
    pacer = Pacer()
    pacer.failed("k", 5.0, announced=False)
    pacer.before("k")
    assert pacer.closed_for("k") > 0  # a probe is out: others would wait
    assert pacer.before("k", timeout=0.1) is None
    pacer.released("k")  # the probe met a 401: let the next caller probe
    assert pacer.closed_for("k") == 0
    assert pacer.before("k") < 1.0
