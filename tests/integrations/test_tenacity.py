"""tenacity with Kyra's strategies against the real fault server: GREEN retried, RED stopped."""

from __future__ import annotations

import httpx
import pytest
from tenacity import RetryCallState, Retrying, retry, stop_after_attempt, wait_fixed

from kyra.demo import FaultServer
from kyra.integrations.tenacity import retry_if_healable, stop_on_red, wait_diagnosed


def _fetcher(server: FaultServer, waits: list[float]):  # type: ignore[no-untyped-def]
    def record(state: RetryCallState) -> None:
        waits.append(state.upcoming_sleep)

    @retry(
        retry=retry_if_healable(),
        wait=wait_diagnosed(fallback=wait_fixed(0.01)),
        stop=stop_on_red() | stop_after_attempt(6),
        before_sleep=record,
        sleep=lambda _seconds: None,
        reraise=True,
    )
    def fetch(path: str) -> dict[str, object]:
        response = httpx.get(server.url + path, timeout=5)
        response.raise_for_status()
        return dict(response.json())

    return fetch


def test_a_503_is_retried_with_the_fallback_wait(fault_server: FaultServer) -> None:
    waits: list[float] = []
    assert _fetcher(fault_server, waits)("/flaky/a?fail=2&status=503")["ok"] is True
    assert waits == [0.01, 0.01]
    assert fault_server.stats()["paths"]["/flaky/a"] == 3


def test_a_429_waits_its_retry_after(fault_server: FaultServer) -> None:
    waits: list[float] = []
    fetch = _fetcher(fault_server, waits)
    assert fetch("/flaky/b?fail=1&status=429&retry_after=4")["ok"] is True
    assert waits == [4.0]


def test_a_401_is_not_retried(fault_server: FaultServer) -> None:
    waits: list[float] = []
    with pytest.raises(httpx.HTTPStatusError):
        _fetcher(fault_server, waits)("/auth")
    assert waits == []
    assert fault_server.stats()["paths"]["/auth"] == 1


def test_yellow_and_unknown_stop_at_once(fault_server: FaultServer) -> None:
    waits: list[float] = []
    fetch = _fetcher(fault_server, waits)
    with pytest.raises(httpx.HTTPStatusError):
        fetch("/require?fields=email")
    assert waits == []
    attempts = 0

    def odd() -> None:
        nonlocal attempts
        attempts += 1
        raise ValueError("something nobody recognises")

    with pytest.raises(ValueError, match="nobody"):
        Retrying(retry=retry_if_healable(), stop=stop_after_attempt(5), reraise=True)(odd)
    assert attempts == 1


def test_stop_on_red_stops_a_broader_retry_predicate(fault_server: FaultServer) -> None:
    calls = 0

    def fetch() -> None:
        nonlocal calls
        calls += 1
        httpx.get(fault_server.url + "/auth", timeout=5).raise_for_status()

    retrying = Retrying(
        stop=stop_on_red() | stop_after_attempt(5), wait=wait_fixed(0), reraise=True
    )
    with pytest.raises(httpx.HTTPStatusError):
        retrying(fetch)
    assert calls == 1


def test_max_wait_caps_a_long_retry_after(fault_server: FaultServer) -> None:
    seen: list[float] = []

    def fetch() -> None:
        httpx.get(
            fault_server.url + "/flaky/c?fail=1&status=429&retry_after=600", timeout=5
        ).raise_for_status()

    retrying = Retrying(
        retry=retry_if_healable(),
        wait=wait_diagnosed(max_wait=2.5),
        before_sleep=lambda state: seen.append(state.upcoming_sleep),
        sleep=lambda _seconds: None,
    )
    retrying(fetch)
    assert seen == [2.5]
