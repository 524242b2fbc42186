"""The fault server's `/ramp/{key}`: a host that slows down request after request."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from kyra.demo import FaultServer


@pytest.fixture
def client(fault_server: FaultServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fault_server.url, timeout=5) as c:
        yield c


def test_ramp_grows_by_step_after_n_requests(client: httpx.Client) -> None:
    delays = [client.get("/ramp/a?base=0.01&step=0.02&after=2").json()["delayed"] for _ in range(5)]
    assert delays == [0.01, 0.01, 0.03, 0.05, 0.07]
    capped = [
        client.get("/ramp/c?base=0.01&step=0.02&cap=0.04").json()["delayed"] for _ in range(4)
    ]
    assert capped == [0.03, 0.04, 0.04, 0.04]


def test_ramp_jitter_is_bounded_and_repeatable_per_seed(
    client: httpx.Client, fault_server: FaultServer
) -> None:
    query = "base=0.01&jitter=0.5&seed=s"
    first = [client.get(f"/ramp/j?{query}").json()["delayed"] for _ in range(20)]
    assert all(0.005 <= d <= 0.015 for d in first)
    assert len(set(first)) > 10  # it does jitter
    fault_server.reset()
    assert [client.get(f"/ramp/j?{query}").json()["delayed"] for _ in range(20)] == first
    fault_server.reset()
    other = [client.get("/ramp/j?base=0.01&jitter=0.5&seed=t").json()["delayed"] for _ in range(3)]
    assert other != first[:3]


def test_ramp_spikes_every_nth_request(client: httpx.Client) -> None:
    delays = [
        client.get("/ramp/s?base=0.01&spike=3&spike_every=3").json()["delayed"] for _ in range(6)
    ]
    assert delays == [0.01, 0.01, 0.03, 0.01, 0.01, 0.03]


def test_ramp_refuses_bad_parameters(client: httpx.Client) -> None:
    bad = client.get("/ramp/b?jitter=2")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "bad_fault_parameter"
