"""Hostile bodies on the API (issue 12, F1, F10, F12): a 4xx with the error shape and a
message, never a 500, and nothing stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kyra.api.body_limit import MAX_REQUEST_BYTES
from kyra.demo import FaultServer
from tests.api.conftest import Tenant, assert_problem, hooked

STEPS = "steps:\n  - {name: a, action: transform}\n"
DEEP = b"[" * 50_000


def _error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error = assert_problem(r)
    assert error["detail"]
    return error


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            'name: mars\ntrigger: {cron: "* * * * *", timezone: "Mars/Olympus"}\n' + STEPS,
            "request:2: trigger.timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            'name: esc\ntrigger: {cron: "* * * * *", timezone: "../../etc/passwd"}\n' + STEPS,
            "request:2: trigger.timezone: unknown time zone",
        ),
        (
            "name: fast\ntrigger: {interval: 10ms}\n" + STEPS,
            "request:2: trigger.interval: an interval trigger fires at most every 1s",
        ),
        ("name: x\x00\n" + STEPS, "request:1:8: YAML syntax error: unacceptable character"),
    ],
)
def test_bad_triggers_and_characters_are_422_with_line_and_field(
    acme: Tenant, source: str, expected: str
) -> None:
    error = _error(acme.post("/api/v1/workflows", json={"source": source}), 422)
    assert any(expected in problem for problem in error["details"]["problems"]), error
    assert acme.get("/api/v1/workflows").json() == []


def test_a_yaml_body_with_a_nul_byte_is_422(acme: Tenant) -> None:
    body = ("name: x\x00\n" + STEPS).encode()
    r = acme.post("/api/v1/workflows", content=body, headers={"Content-Type": "application/yaml"})
    _error(r, 422)


def test_deeply_nested_json_bodies_are_400(
    acme: Tenant, http: TestClient, fault_server: FaultServer
) -> None:
    json_headers = {"Content-Type": "application/json"}
    assert _error(acme.post("/api/v1/workflows", content=DEEP, headers=json_headers), 400)
    acme.apply(hooked(fault_server))
    hook = acme.post("/api/v1/workflows/inbound/webhook").json()
    headers = {"X-Kyra-Token": hook["token"], **json_headers}
    path = f"/hooks/{hook['hook_id']}"
    error = _error(http.post(path, content=DEEP, headers=headers), 400)
    assert "nested more than 64 levels" in error["detail"]
    nan = http.post(path, content=b'{"total": NaN}', headers=headers)
    _error(nan, 400)
    # Deep but parseable (within Python's recursion): still refused, before it is stored.
    deep_inputs = b'{"inputs": ' + b'{"a": ' * 200 + b"1" + b"}" * 200 + b"}"
    run = acme.post("/api/v1/workflows/inbound/run", content=deep_inputs, headers=json_headers)
    assert 400 <= run.status_code < 500, run.text
    assert acme.get("/api/v1/executions", params={"workflow": "inbound"}).json() == []


def test_the_diagnose_endpoint_refuses_deep_nesting(acme: Tenant) -> None:
    json_headers = {"Content-Type": "application/json"}
    assert (
        400 <= acme.post("/api/v1/diagnose", content=DEEP, headers=json_headers).status_code < 500
    )
    deep = b'{"error_type": "X", "body": ' + b"[" * 300 + b"]" * 300 + b"}"
    error = _error(acme.post("/api/v1/diagnose", content=deep, headers=json_headers), 422)
    assert "nested more than 64 levels" in error["detail"]


def _chunks(total: int, size: int = 1 << 20) -> Iterator[bytes]:
    """A body without Content-Length (sent chunked), so only counting can stop it."""
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_a_body_over_the_cap_is_413_before_it_is_read(
    acme: Tenant, http: TestClient, fault_server: FaultServer
) -> None:
    json_headers = {"Content-Type": "application/json"}
    acme.apply(hooked(fault_server))
    big_inputs = b'{"inputs": {"a": "' + b"x" * MAX_REQUEST_BYTES + b'"}}'
    error = _error(acme.post("/api/v1/workflows/inbound/run", content=big_inputs), 413)
    assert error["code"] == "too_large"
    chunked = acme.post("/api/v1/diagnose", content=_chunks(2 * MAX_REQUEST_BYTES))
    assert _error(chunked, 413)["code"] == "too_large"
    # An unknown hook gets no further than its first 256 KiB, signed or not.
    hook = http.post("/hooks/anything", content=_chunks(5_000_000), headers=json_headers)
    assert _error(hook, 413)["code"] == "too_large"
    assert acme.get("/api/v1/executions", params={"workflow": "inbound"}).json() == []
    # Under the cap, the same routes still work.
    small = acme.post("/api/v1/workflows/inbound/run", json={"inputs": {"a": "x" * 1000}})
    assert small.status_code == 202, small.text
