"""`http_request`: one HTTP call through the run's shared client, paced and mapped.

`send()` is the path every HTTP-based action takes (also `slack_message` and
`teams_message`): wait for the pacer (`config.request_delay`), merge `config.headers`
under the step's headers, apply `config.timeout`, and translate httpx exceptions once.

`config.timeout` bounds the whole exchange, body included. httpx's timeouts are per
operation (a body trickling in 1 KB every half second never trips a read timeout), so
the response is streamed and read against a wall-clock deadline, and against a size
cap (`KYRA_HTTP_MAX_RESPONSE_BYTES`): a slow drip fails as `DeadlineExceeded` (a
timeout to diagnosis) at most one read after the deadline, and an endless body fails as
`ResponseTooLarge` without being held in memory. A body larger than
`KYRA_HTTP_MAX_STORED_BYTES` is not stored as the step's output (`ResponseTooLarge`).

Slack's Web API answers HTTP 200 with `{"ok": false, "error": "..."}` on failure; when the
provider is Slack (host `slack.com`, `*.slack.com`, or the step says so), such a body
raises `RemoteStatusError` with the real status, the body, and `error_type`
"SlackApiError", so a failed Slack call never passes as a success.
"""

from __future__ import annotations

import json as jsonlib
import time
from http.cookiejar import CookieJar
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kyra.actions.base import StepContext, Text, watch_exchange
from kyra.actions.httperrors import (
    RequestInfo,
    excerpt,
    json_body,
    map_http_exception,
    status_error,
)
from kyra.actions.providers import resolve_provider
from kyra.errors import ActionInputError, ResponseTooLargeError, TransportError, WaitRequired

OUTPUT_TEXT_LIMIT = 65_536
"""Bound on the `text` a step outputs, so one large page cannot bloat the run record."""
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
SLACK_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
"""Slack `error` codes that a later retry can cure; every other `ok: false` is final."""

QueryValue = str | int | float | bool | list[str | int | float | bool]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BasicAuth(_Strict):
    username: Text
    password: Text


class HeaderAuth(_Strict):
    """An API key sent in a named header, e.g. `X-Api-Key`."""

    name: str = Field(min_length=1)
    value: Text


class AuthParams(_Strict):
    """Exactly one of `bearer`, `basic`, `header`; values arrive rendered from secrets."""

    bearer: Text | None = None
    basic: BasicAuth | None = None
    header: HeaderAuth | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AuthParams:
        given = [n for n in ("bearer", "basic", "header") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("auth takes exactly one of 'bearer', 'basic' or 'header'")
        return self


def check_http_url(value: str) -> str:
    """Only http(s) URLs: a `file:` or bare host is a step mistake, caught at validation."""
    if not value.lower().startswith(("http://", "https://")):
        raise ValueError(f"the url must start with http:// or https:// (got {value[:80]!r})")
    return value


class HttpRequestParams(_Strict):
    """Parameters of `http_request`; unknown keys are errors (a typo must not pass)."""

    method: str = "GET"
    url: Text
    headers: dict[str, Text] = Field(default_factory=dict)
    query: dict[str, QueryValue] = Field(default_factory=dict)
    json_: Any = Field(default=None, alias="json")
    form: dict[str, Text] | None = None
    body: Text | None = None
    auth: AuthParams | None = None
    expect_status: list[int] | None = None
    """Statuses that count as success; default: any status below 400."""
    follow_redirects: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return check_http_url(value)

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        upper = value.upper()
        if upper not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)} (got {value!r})")
        return upper

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(not 100 <= code <= 599 for code in value):
            raise ValueError("expect_status holds HTTP status codes between 100 and 599")
        return value

    @model_validator(mode="after")
    def _one_body(self) -> HttpRequestParams:
        given = [n for n in ("json_", "form", "body") if n in self.model_fields_set]
        if len(given) > 1:
            raise ValueError("give at most one of 'json', 'form' or 'body'")
        return self


class _NoCookies(CookieJar):
    """Kyra's one HTTP client serves every tenant and workflow: a cookie that one API
    response sets must never ride along on another workflow's request. Steps that need
    a cookie send it as a header, from a secret."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def set_cookie(self, cookie: Any) -> None:
        return None


def http_client(**options: Any) -> httpx.Client:
    """The HTTP client connectors share (pooled keep-alive connections, no cookie jar,
    redirects decided per request)."""
    return httpx.Client(cookies=_NoCookies(), follow_redirects=False, **options)


def send(
    ctx: StepContext,
    *,
    action: str,
    method: str,
    url: str,
    headers: dict[str, str] | None = None,
    query: dict[str, QueryValue] | None = None,
    json: Any = None,
    has_json: bool = False,
    form: dict[str, str] | None = None,
    content: str | None = None,
    auth: httpx.BasicAuth | None = None,
    follow_redirects: bool = True,
) -> tuple[httpx.Response, RequestInfo, float]:
    """Send one paced request; returns (response, info, elapsed seconds).

    Raises TransportError / ActionInputError for requests that got no response; the
    status is not checked here (callers decide what counts as success).
    """
    info = RequestInfo(
        action=action,
        provider=resolve_provider(ctx.provider, url),
        attempt=ctx.attempt,
        method=method,
        url=url,
        timeout=ctx.config.timeout,
    )
    merged = _merge_headers(ctx.config.headers, headers or {})
    if has_json:
        # Encoded here, not by httpx: httpx treats json=None as "no body", but an explicit
        # JSON null is a legitimate payload.
        content = _encode_json(json, info)
        if "content-type" not in merged:
            merged["Content-Type"] = "application/json"
    ctx.pacer.wait(ctx.config.request_delay)
    try:
        ctx.guard.before_request(url)  # shared pacing and circuits; may wait, park or refuse
    except WaitRequired:
        ctx.pacer.forget()
        raise
    started = time.monotonic()
    try:
        request = ctx.http.build_request(
            method,
            url,
            headers=merged,
            params=query or None,
            data=form,
            content=content,
            timeout=ctx.config.timeout,
        )
        streamed = ctx.http.send(request, auth=auth, follow_redirects=follow_redirects, stream=True)
        try:
            # Before the body: once it is read, a closing connection takes its TLS
            # session (and the peer certificate) with it.
            watch_exchange(ctx, url, streamed)
            response = _read_bounded(streamed, info, started, ctx.limits.max_read_bytes)
        finally:
            streamed.close()
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        error = map_http_exception(exc, info, time.monotonic() - started)
        ctx.guard.after_transport_error(url, error.error_type)
        raise error from exc
    except TransportError as error:  # the deadline passed while the body trickled in
        ctx.guard.after_transport_error(url, error.error_type)
        raise
    except ResponseTooLargeError as error:
        ctx.guard.after_response(url, error.status_code or 200, error.headers)
        raise
    ctx.guard.after_response(url, response.status_code, response.headers)
    return response, info, time.monotonic() - started


_DECODED_AWAY = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _read_bounded(
    streamed: httpx.Response, info: RequestInfo, started: float, limit: int
) -> httpx.Response:
    """Read a streamed body within the exchange's deadline and `limit` bytes (decoded,
    so a small gzip bomb counts at its real size); returns the response, read."""
    deadline = started + info.timeout
    chunks: list[bytes] = []
    size = 0
    for chunk in streamed.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise ResponseTooLargeError(
                f"the response of {info.method} {info.safe_url} is larger than {limit} bytes "
                "(KYRA_HTTP_MAX_RESPONSE_BYTES); Kyra stopped reading it",
                limit_bytes=limit,
                setting="KYRA_HTTP_MAX_RESPONSE_BYTES",
                action=info.action,
                provider=info.provider,
                status_code=streamed.status_code,
                headers=dict(streamed.headers),
                elapsed=time.monotonic() - started,
                attempt=info.attempt,
            )
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise TransportError(
                f"{info.method} {info.safe_url} did not finish within the {info.timeout:g}s "
                f"timeout (the whole exchange; {size} bytes of the body had arrived)",
                action=info.action,
                provider=info.provider,
                error_type="DeadlineExceeded",
                elapsed=time.monotonic() - started,
                attempt=info.attempt,
            )
    # The body is decoded already: the copy must not decode it again.
    headers = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() not in _DECODED_AWAY]
    return httpx.Response(
        streamed.status_code,
        headers=headers,
        content=b"".join(chunks),
        request=streamed.request,
        extensions=streamed.extensions,
    )


def host_key(url: str) -> str:
    """The fleet key of a URL: host, plus the port when it is not the scheme's default
    (two services on one machine are two upstreams)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return ""
    host = parsed.host.lower()
    return f"{host}:{parsed.port}" if parsed.port else host


def _merge_headers(config_headers: dict[str, str], step_headers: dict[str, str]) -> httpx.Headers:
    """Config headers first, step headers replace them (names compare case-insensitively).

    Every value goes through the item setter, which encodes UTF-8; httpx's constructor
    would reject non-ASCII config values that the same value in a step header passes.
    """
    merged = httpx.Headers()
    for source in (config_headers, step_headers):
        for name, value in source.items():
            merged[name] = value
    return merged


def _encode_json(value: Any, info: RequestInfo) -> str:
    try:
        return jsonlib.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ActionInputError(
            f"the json body of {info.method} {info.safe_url} is not JSON-serialisable: {exc}",
            action=info.action,
            provider=info.provider,
            error_type=type(exc).__name__,
            attempt=info.attempt,
        ) from exc


def _auth_headers(auth: AuthParams | None) -> tuple[dict[str, str], httpx.BasicAuth | None]:
    if auth is None:
        return {}, None
    if auth.bearer is not None:
        return {"Authorization": f"Bearer {auth.bearer}"}, None
    if auth.header is not None:
        return {auth.header.name: auth.header.value}, None
    if auth.basic is not None:
        return {}, httpx.BasicAuth(auth.basic.username, auth.basic.password)
    return {}, None


def _raise_for_slack(
    response: httpx.Response, body: Any, info: RequestInfo, elapsed: float
) -> None:
    if info.provider == "slack" and isinstance(body, dict) and body.get("ok") is False:
        code = str(body.get("error", "unknown_error"))
        raise status_error(
            response,
            info,
            elapsed,
            message=f"Slack API error: {code[:200]}",
            error_type="SlackApiError",
            retryable=code in SLACK_TRANSIENT_ERRORS or response.status_code >= 500,
        )


def _check_stored_size(
    response: httpx.Response, info: RequestInfo, elapsed: float, limit: int
) -> None:
    """A body too large to keep as the step's output fails the step (its parsed JSON is
    what later steps and the run record would hold)."""
    if len(response.content) > limit:
        raise ResponseTooLargeError(
            f"the response of {info.method} {info.safe_url} has {len(response.content)} bytes, "
            f"more than a step may store ({limit}, KYRA_HTTP_MAX_STORED_BYTES)",
            limit_bytes=limit,
            setting="KYRA_HTTP_MAX_STORED_BYTES",
            action=info.action,
            provider=info.provider,
            status_code=response.status_code,
            headers=dict(response.headers),
            elapsed=elapsed,
            attempt=info.attempt,
        )


class HttpRequest:
    """Calls an HTTP API and returns status, headers, JSON and (bounded) text."""

    name: ClassVar[str] = "http_request"
    Params: ClassVar[type[BaseModel]] = HttpRequestParams

    def run(self, params: HttpRequestParams, ctx: StepContext) -> dict[str, Any]:
        auth_headers, basic = _auth_headers(params.auth)
        response, info, elapsed = send(
            ctx,
            action=self.name,
            method=params.method,
            url=params.url,
            headers={**params.headers, **auth_headers},
            query=params.query,
            json=params.json_,
            has_json="json_" in params.model_fields_set,
            form=params.form,
            content=params.body,
            auth=basic,
            follow_redirects=params.follow_redirects,
        )
        ok = (
            response.status_code in params.expect_status
            if params.expect_status is not None
            else response.status_code < 400
        )
        if not ok:
            raise status_error(response, info, elapsed)
        _check_stored_size(response, info, elapsed, ctx.limits.max_stored_bytes)
        body = json_body(response)
        _raise_for_slack(response, body, info, elapsed)
        return {
            "status_code": response.status_code,
            "headers": dict(response.headers),
            "json": body,
            "text": excerpt(response.text, OUTPUT_TEXT_LIMIT),
            "elapsed_ms": round(elapsed * 1000, 1),
        }


__all__ = ["HttpRequest", "HttpRequestParams", "host_key", "send"]
