"""`http_request` against the real fault server: success, statuses, timeouts, pacing."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import ValidationError

from kyra.actions.base import RequestPacer
from kyra.actions.http import HttpRequest, HttpRequestParams
from kyra.demo import FaultServer
from kyra.errors import ActionInputError, RemoteStatusError, TransportError
from tests.actions.conftest import FakeClock, MakeCtx

ACTION = HttpRequest()


def run(ctx: Any, **params: Any) -> dict[str, Any]:
    return ACTION.run(HttpRequestParams.model_validate(params), ctx)


def fail(ctx: Any, **params: Any) -> Any:
    with pytest.raises((RemoteStatusError, TransportError, ActionInputError)) as info:
        run(ctx, **params)
    return info.value


def test_get_returns_status_headers_json_and_text(
    fault_server: FaultServer, make_ctx: MakeCtx
) -> None:
    out = run(make_ctx(), url=fault_server.url + "/ok", query={"a": 1, "b": ["x", "y"]})
    assert out["status_code"] == 200
    assert out["json"] == {"ok": True, "echo": {"a": "1", "b": ["x", "y"]}}
    assert out["headers"]["content-type"] == "application/json"
    assert out["text"].startswith('{"ok":true')
    assert out["elapsed_ms"] >= 0


def test_post_json_form_and_raw_body_arrive(fault_server: FaultServer, make_ctx: MakeCtx) -> None:
    ctx = make_ctx()
    echoed = run(ctx, method="post", url=fault_server.url + "/echo", json={"n": [1, 2]})["json"]
    assert (echoed["method"], echoed["json"]) == ("POST", {"n": [1, 2]})
    form = run(ctx, method="POST", url=fault_server.url + "/echo", form={"k": "v w"})["json"]
    assert form["body"] == "k=v+w"
    assert form["headers"]["content-type"] == "application/x-www-form-urlencoded"
    raw = run(ctx, method="PUT", url=fault_server.url + "/echo", body="plain")["json"]
    assert raw["body"] == "plain"


def test_json_null_is_sent_when_given_explicitly(
    fault_server: FaultServer, make_ctx: MakeCtx
) -> None:
    echoed = run(make_ctx(), method="POST", url=fault_server.url + "/echo", json=None)["json"]
    assert echoed["body"] == "null"


def test_config_headers_are_merged_and_step_headers_win(
    fault_server: FaultServer, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(headers={"X-Api-Version": "2024-01", "X-Team": "ops"})
    out = run(ctx, url=fault_server.url + "/echo", headers={"x-team": "billing"})
    headers = out["json"]["headers"]
    assert headers["x-api-version"] == "2024-01"
    assert headers["x-team"] == "billing"


@pytest.mark.parametrize(
    ("auth", "header", "expected"),
    [
        ({"bearer": "tok"}, "authorization", "Bearer tok"),
        ({"basic": {"username": "u", "password": "p"}}, "authorization", "Basic dTpw"),
        ({"header": {"name": "X-Api-Key", "value": "k1"}}, "x-api-key", "k1"),
    ],
)
def test_auth_variants(
    fault_server: FaultServer,
    make_ctx: MakeCtx,
    auth: dict[str, Any],
    header: str,
    expected: str,
) -> None:
    out = run(make_ctx(), url=fault_server.url + "/echo", auth=auth)
    assert out["json"]["headers"][header] == expected


def test_bearer_auth_passes_the_auth_endpoint(fault_server: FaultServer, make_ctx: MakeCtx) -> None:
    ok = run(make_ctx(), url=fault_server.url + "/auth?token=T", auth={"bearer": "T"})
    assert ok["json"] == {"ok": True, "authenticated": True}
    error = fail(make_ctx(), url=fault_server.url + "/auth?token=T", auth={"bearer": "nope"})
    assert error.status_code == 401
    assert error.retryable is False
    assert "invalid_api_key" in error.body_excerpt


def test_429_carries_retry_after_and_rate_limit_headers(
    fault_server: FaultServer, make_ctx: MakeCtx
) -> None:
    ctx = make_ctx(attempt=3)
    url = fault_server.url + "/ratelimit/http429?limit=1&window=30"
    run(ctx, url=url)
    error = fail(ctx, url=url)
    assert isinstance(error, RemoteStatusError)
    assert error.status_code == 429
    assert error.retryable is True
    assert error.error_type == "HTTPStatusError"
    assert error.retry_after is not None
    assert 29 <= error.retry_after <= 30
    assert error.headers["x-ratelimit-limit"] == "1"
    assert error.action == "http_request"
    assert error.provider == "127.0.0.1"
    assert error.attempt == 3
    assert error.elapsed > 0
    assert "rate_limited" in (error.body_excerpt or "")


def test_503_is_retryable_and_the_next_call_succeeds(
    fault_server: FaultServer, make_ctx: MakeCtx
) -> None:
    url = fault_server.url + "/flaky/http503?fail=1&status=503&retry_after=2"
    error = fail(make_ctx(), url=url)
    assert (error.status_code, error.retryable, error.retry_after) == (503, True, 2.0)
    assert "Simulated failure 1 of 1" in error.message
    assert run(make_ctx(), url=url)["status_code"] == 200


def test_slow_response_maps_to_read_timeout(fault_server: FaultServer, make_ctx: MakeCtx) -> None:
    started = time.monotonic()
    error = fail(make_ctx(timeout=0.15), url=fault_server.url + "/slow?delay=1")
    assert isinstance(error, TransportError)
    assert error.error_type == "ReadTimeout"
    assert error.retryable is True
    assert error.status_code is None
    assert 0.1 <= error.elapsed < 0.9
    assert time.monotonic() - started < 0.9
    assert "0.15s timeout" in error.message
    assert isinstance(error.__cause__, Exception)


def test_connection_refused_maps_to_connect_error(make_ctx: MakeCtx, closed_port: int) -> None:
    error = fail(make_ctx(), url=f"http://127.0.0.1:{closed_port}/x")
    assert isinstance(error, TransportError)
    assert error.error_type == "ConnectError"
    assert error.retryable is True
    assert error.provider == "127.0.0.1"


def test_400_body_excerpt_is_bounded(fault_server: FaultServer, make_ctx: MakeCtx) -> None:
    body = '{"error": {"message": "bad field", "pad": "' + "x" * 3000 + '"}}'
    error = fail(make_ctx(), url=fault_server.url + "/status/400", query={"body": body})
    assert error.status_code == 400
    assert len(error.body_excerpt) == 2048
    assert error.body_excerpt == body[:2048]
    assert error.message.endswith("400 Bad Request: bad field")
    assert error.retryable is False


def test_query_string_secrets_stay_out_of_the_message(
    fault_server: FaultServer, make_ctx: MakeCtx
) -> None:
    error = fail(make_ctx(), url=fault_server.url + "/status/500?api_key=SECRET123")
    assert "SECRET123" not in error.message
    assert "/status/500" in error.message


def test_expect_status_decides_success(fault_server: FaultServer, make_ctx: MakeCtx) -> None:
    assert (
        run(make_ctx(), url=fault_server.url + "/status/404", expect_status=[404])["status_code"]
        == 404
    )
    error = fail(make_ctx(), url=fault_server.url + "/status/201", expect_status=[200])
    assert error.status_code == 201


def test_request_delay_is_enforced_through_the_pacer(
    fault_server: FaultServer, make_ctx: MakeCtx, fake_clock: FakeClock
) -> None:
    pacer = RequestPacer(sleep=fake_clock.sleep, monotonic=fake_clock.monotonic)
    ctx = make_ctx(request_delay=2.5, pacer=pacer)
    for _ in range(3):
        run(ctx, url=fault_server.url + "/ok")
    assert fake_clock.sleeps == [2.5, 2.5]


def test_request_delay_cures_a_pace_limit_for_real(
    fault_server: FaultServer, make_ctx: MakeCtx
) -> None:
    fast = make_ctx()
    run(fast, url=fault_server.url + "/pace/fast?min_interval=5")
    assert fail(fast, url=fault_server.url + "/pace/fast?min_interval=5").status_code == 429
    paced = make_ctx(request_delay=0.2)
    started = time.monotonic()
    for _ in range(3):
        out = run(paced, url=fault_server.url + "/pace/paced?min_interval=0.15")
        assert out["status_code"] == 200
    assert 0.35 <= time.monotonic() - started < 2.0


def test_slack_ok_false_in_a_200_is_an_error(fault_server: FaultServer, make_ctx: MakeCtx) -> None:
    ctx = make_ctx(provider="slack")
    error = fail(ctx, url=fault_server.url + "/provider/slack/channel_not_found")
    assert isinstance(error, RemoteStatusError)
    assert (error.status_code, error.error_type) == (200, "SlackApiError")
    assert error.message == "Slack API error: channel_not_found"
    assert error.retryable is False
    assert error.provider == "slack"


def test_provider_shaped_rate_limits_parse_their_retry_hints(
    fault_server: FaultServer, make_ctx: MakeCtx
) -> None:
    github = fail(
        make_ctx(), url=fault_server.url + "/provider/github/secondary_rate_limit?retry_after=7"
    )
    assert (github.status_code, github.retry_after) == (403, 7.0)
    openai = fail(make_ctx(), url=fault_server.url + "/provider/openai/rate_limit?retry_after=3")
    assert (openai.status_code, openai.retry_after) == (429, 3.0)
    assert "Rate limit reached" in openai.message


@pytest.mark.parametrize(
    "params",
    [
        {"url": "ftp://example.com"},
        {"url": "http://x", "method": "TRACE"},
        {"url": "http://x", "json": {}, "body": "b"},
        {"url": "http://x", "auth": {"bearer": "a", "header": {"name": "n", "value": "v"}}},
        {"url": "http://x", "auth": {}},
        {"url": "http://x", "expect_status": [99]},
        {"url": "http://x", "timeout": 3},
    ],
)
def test_invalid_params_are_rejected(params: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HttpRequestParams.model_validate(params)


def test_a_cookie_one_response_sets_never_rides_on_another_request(
    fault_server: FaultServer, make_ctx: MakeCtx
) -> None:
    # One workflow's API sets a session cookie on the shared client...
    out = run(
        make_ctx(),
        url=fault_server.url + "/status/200",
        query={"header": "Set-Cookie:session=tenant-a-secret; Path=/"},
    )
    assert out["headers"]["set-cookie"].startswith("session=tenant-a-secret")
    # ...and the next request to the same host (another workflow, maybe another
    # tenant) does not carry it
    echoed = run(make_ctx(), url=fault_server.url + "/echo")["json"]["headers"]
    assert "cookie" not in {name.lower() for name in echoed}
