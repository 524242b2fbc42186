"""The fault server over real HTTP: each endpoint's behaviour, concurrency, the CLI."""

from __future__ import annotations

import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from kyra.demo import FaultServer
from kyra.demo._faults import FaultState
from kyra.demo._server import FaultApp
from kyra.demo.provider_errors import CANNED


class Clock:
    """The server's notion of time, moved by the test instead of sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def timed(ssl_context: ssl.SSLContext) -> Iterator[tuple[httpx.Client, Clock]]:
    """A private server whose rate windows follow `Clock`, and a client for it."""
    clock = Clock()
    with (
        FaultServer(app=FaultApp(FaultState(monotonic=clock))) as server,
        httpx.Client(base_url=server.url, timeout=5, verify=ssl_context) as c,
    ):
        yield c, clock


@pytest.fixture
def client(fault_server: FaultServer, ssl_context: ssl.SSLContext) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fault_server.url, timeout=5, verify=ssl_context) as c:
        yield c


def test_ok_echoes_json_body_or_query(client: httpx.Client) -> None:
    assert client.post("/ok", json={"a": 1}).json() == {"ok": True, "echo": {"a": 1}}
    assert client.get("/ok?a=1&a=2&b=").json()["echo"] == {"a": ["1", "2"], "b": ""}


def test_echo_reports_what_arrived(client: httpx.Client) -> None:
    body = client.post("/echo?q=1", json=[1], headers={"X-Trace": "t1"}).json()
    assert body["method"] == "POST"
    assert body["path"] == "/echo"
    assert body["query"] == {"q": "1"}
    assert body["headers"]["x-trace"] == "t1"
    assert (body["json"], body["body"]) == ([1], "[1]")


def test_chunked_request_bodies_are_read(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"a": '
        yield b"1}"

    assert client.post("/echo", content=chunks()).json()["json"] == {"a": 1}


def test_status_with_body_and_headers(client: httpx.Client) -> None:
    r = client.get(
        "/status/418",
        params=[("body", "teapot"), ("header", "X-A: 1"), ("header", "Retry-After:3")],
    )
    assert (r.status_code, r.text) == (418, "teapot")
    assert r.headers["content-type"].startswith("text/plain")
    assert (r.headers["x-a"], r.headers["retry-after"]) == ("1", "3")
    assert client.get("/status/503").json() == {"status": 503}
    assert client.get("/status/204").content == b""
    assert client.get("/status/abc").status_code == 400
    assert (
        client.get("/status/200", params={"header": "X-Bad:a\r\nInjected: 1"}).headers.get(
            "injected"
        )
        is None
    )


def test_ratelimit_answers_429_with_rate_limit_headers(client: httpx.Client) -> None:
    # The rolling-window arithmetic is pinned on an injected clock in test_fault_state.py;
    # here a long window keeps the real-time check free of scheduling noise.
    url = "/ratelimit/rw?limit=2&window=5"
    first, second, third = (client.get(url) for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert first.headers["x-ratelimit-remaining"] == "1"
    assert third.headers["retry-after"] == "5"
    assert third.headers["x-ratelimit-limit"] == "2"
    assert third.headers["x-ratelimit-remaining"] == "0"
    assert int(third.headers["x-ratelimit-reset"]) >= int(time.time()) + 4
    assert 4 < third.json()["error"]["retry_after"] <= 5
    assert client.get("/ratelimit/other-key?limit=2&window=5").status_code == 200


def test_ratelimit_recovers_once_the_window_rolls(timed: tuple[httpx.Client, Clock]) -> None:
    client, clock = timed
    url = "/ratelimit/roll?limit=1&window=0.2"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 429
    clock.now += 0.25
    assert client.get(url).status_code == 200


def test_pace_requires_a_minimum_interval(client: httpx.Client) -> None:
    assert client.get("/pace/p?min_interval=5").status_code == 200
    too_fast = client.get("/pace/p?min_interval=5")
    assert too_fast.status_code == 429
    assert too_fast.headers["retry-after"] == "5"


def test_pace_allows_the_next_request_after_the_interval(
    timed: tuple[httpx.Client, Clock],
) -> None:
    client, clock = timed
    assert client.get("/pace/q?min_interval=0.1").status_code == 200
    clock.now += 0.15
    assert client.get("/pace/q?min_interval=0.1").status_code == 200


def test_flaky_fails_n_times_then_recovers(client: httpx.Client) -> None:
    url = "/flaky/f?fail=2&status=502&retry_after=4"
    statuses = [client.get(url) for _ in range(3)]
    assert [r.status_code for r in statuses] == [502, 502, 200]
    assert statuses[0].headers["retry-after"] == "4"
    assert statuses[2].json()["request"] == 3


def test_window_is_an_outage_from_the_first_request(client: httpx.Client) -> None:
    assert client.get("/window/w?seconds=5&status=503").status_code == 503
    assert client.get("/window/w?seconds=5&status=503").status_code == 503


def test_window_ends_after_its_seconds(timed: tuple[httpx.Client, Clock]) -> None:
    client, clock = timed
    assert client.get("/window/short?seconds=0.1").status_code == 503
    clock.now += 0.15
    assert client.get("/window/short?seconds=0.1").status_code == 200


def test_slow_does_not_block_other_requests(
    fault_server: FaultServer, client: httpx.Client
) -> None:
    slow_done: list[float] = []

    def slow_call() -> None:
        with httpx.Client(timeout=5) as other:
            started = time.monotonic()
            other.get(fault_server.url + "/slow?delay=0.4")
            slow_done.append(time.monotonic() - started)

    thread = threading.Thread(target=slow_call)
    thread.start()
    time.sleep(0.05)
    started = time.monotonic()
    assert client.get("/ok").status_code == 200
    assert time.monotonic() - started < 0.3
    thread.join()
    assert slow_done[0] >= 0.4


def test_slow_with_a_key_is_slow_only_n_times(client: httpx.Client) -> None:
    assert client.get("/slow/s?delay=0.15&times=1").json()["delayed"] == 0.15
    assert client.get("/slow/s?delay=0.15&times=1").json()["delayed"] == 0


def test_dates_checks_the_exact_format(client: httpx.Client) -> None:
    bad = client.post("/dates", json={"date": "26/11/2026"})
    assert bad.status_code == 400
    assert bad.json()["error"] == {
        "code": "invalid_date_format",
        "message": "Invalid date format for field 'date': expected YYYY-MM-DD (got '26/11/2026')",
        "field": "date",
        "expected_format": "%Y-%m-%d",
    }
    assert client.post("/dates", json={"date": "2026-11-26"}).status_code == 200
    custom = client.post(
        "/dates?format=%25d/%25m/%25Y&field=order.due", json={"order": {"due": "26/11/2026"}}
    )
    assert custom.status_code == 200
    assert client.post("/dates", json={}).json()["error"]["code"] == "missing_required_field"


def test_require_names_the_first_missing_field(client: httpx.Client) -> None:
    r = client.post("/require?fields=email,name", json={"name": "Ana", "email": ""})
    assert r.status_code == 400
    assert r.json()["error"] == {
        "code": "missing_required_field",
        "message": "Missing required field: email",
        "field": "email",
    }
    ok = client.post("/require?fields=email,name", json={"name": "Ana", "email": "a@x.io"})
    assert ok.status_code == 200


def test_auth_wants_the_bearer_token(client: httpx.Client) -> None:
    denied = client.get("/auth?token=T")
    assert denied.status_code == 401
    assert denied.json()["error"] == "invalid_api_key"
    assert "www-authenticate" in denied.headers
    assert client.get("/auth?token=T", headers={"Authorization": "Bearer T"}).status_code == 200


@pytest.mark.parametrize(("name", "case"), sorted(CANNED))
def test_every_canned_provider_error_is_an_error(
    client: httpx.Client, name: str, case: str
) -> None:
    r = client.get(f"/provider/{name}/{case}?retry_after=2")
    if r.status_code == 200:  # failures some providers hide inside a 200
        assert (
            r.json().get("ok") is False
            if "json" in r.headers["content-type"]
            else ("delivery failed" in r.text)
        )
    else:
        assert r.status_code >= 400


def test_provider_cases_follow_the_documented_shapes(client: httpx.Client) -> None:
    google = client.get("/provider/google/rate_limit").json()
    assert google["error"]["errors"][0]["reason"] == "rateLimitExceeded"
    assert client.get("/provider/stripe/card_declined").status_code == 402
    github = client.get("/provider/github/secondary_rate_limit?retry_after=5")
    assert (github.status_code, github.headers["retry-after"]) == (403, "5")
    quota = client.get("/provider/openai/insufficient_quota")
    assert (quota.status_code, quota.json()["error"]["code"]) == (429, "insufficient_quota")
    openai = client.get("/provider/openai/rate_limit")
    assert openai.headers["x-ratelimit-remaining-requests"] == "0"
    assert client.get("/provider/nobody/nothing").status_code == 404


def test_bad_parameters_and_unknown_paths(client: httpx.Client) -> None:
    bad = client.get("/ratelimit/x?limit=lots")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "bad_fault_parameter")
    assert client.get("/slow?delay=9999").status_code == 400
    assert client.get("/nowhere").status_code == 404


def test_stats_and_reset(fault_server: FaultServer, client: httpx.Client) -> None:
    client.get("/ok")
    client.get("/ok?x=1")
    client.get("/status/500")
    stats = client.get("/_stats").json()
    assert stats == fault_server.stats()
    assert stats["paths"] == {"/ok": 2, "/status/500": 1}
    assert stats["statuses"] == {"200": 2, "500": 1}
    assert stats["total"] == 3
    client.get("/flaky/reset-me?fail=1")
    assert client.post("/_reset").json() == {"ok": True}
    assert fault_server.stats()["total"] == 0
    assert client.get("/flaky/reset-me?fail=1").status_code == 503


def test_per_key_state_is_thread_safe(fault_server: FaultServer) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        with httpx.Client(base_url=fault_server.url, timeout=5) as c:
            for _ in range(25):
                code = c.get("/flaky/race?fail=30&status=503").status_code
                with lock:
                    statuses.append(code)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(503) == 30
    assert statuses.count(200) == 70
    assert fault_server.stats()["paths"]["/flaky/race"] == 100


def test_start_stop_and_context_manager() -> None:
    server = FaultServer()
    with pytest.raises(RuntimeError):
        _ = server.url
    with server:
        assert httpx.get(server.url + "/ok").status_code == 200
        with pytest.raises(RuntimeError):
            server.start()
    with pytest.raises(RuntimeError):
        _ = server.port
    server.stop()  # idempotent


def test_stop_closes_idle_keep_alive_connections() -> None:
    server = FaultServer().start()
    with httpx.Client(base_url=server.url) as c:
        assert c.get("/ok").status_code == 200
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2
        with pytest.raises(httpx.TransportError):
            c.get("/ok")


def test_command_line_prints_its_url_and_serves() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "kyra.demo.fault_server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        try:
            assert url.startswith("http://127.0.0.1:")
            assert httpx.get(url + "/ok").json()["ok"] is True
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert err == ""
