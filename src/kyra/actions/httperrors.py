"""The one translation of httpx exceptions and error responses into `StepError`s.

Used by every HTTP-based action (`http_request`, `slack_message`, `teams_message`) so
that diagnosis sees the same fields whatever connector failed:

    httpx.TimeoutException (ReadTimeout, ConnectTimeout, ...)  -> TransportError
    httpx.ConnectError, ReadError, RemoteProtocolError, ...     -> TransportError
    httpx.UnsupportedProtocol, InvalidURL, LocalProtocolError   -> ActionInputError
    an error status (or a 200 that the provider marks failed)   -> RemoteStatusError

`error_type` keeps the original class name ("ReadTimeout", "ConnectError"), or
"HTTPStatusError" for a status error. URLs in messages lose their query string and
user info, which is where tokens tend to hide.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from kyra.errors import ActionInputError, RemoteStatusError, StepError, TransportError
from kyra.redaction import safe_url
from kyra.workflows.durations import parse_duration

BODY_EXCERPT_LIMIT = 2048
"""Bound on `StepError.body_excerpt`; the same bound `ErrorContext` applies."""
_EPOCH_THRESHOLD = 1_000_000_000.0
"""X-RateLimit-Reset values above this are Unix timestamps, below it delta seconds."""


@dataclass(frozen=True)
class RequestInfo:
    """Who sent what: the context a mapped error carries."""

    action: str
    provider: str | None
    attempt: int
    method: str
    url: str
    timeout: float

    @property
    def safe_url(self) -> str:
        return safe_url(self.url)


def excerpt(text: str, limit: int = BODY_EXCERPT_LIMIT) -> str:
    """At most `limit` characters of a body."""
    return text if len(text) <= limit else text[:limit]


def parse_retry_after(
    headers: Mapping[str, str],
    body: Any = None,
    *,
    status_code: int | None = None,
    now: float | None = None,
) -> float | None:
    """Seconds to wait before retrying, from the headers providers actually send.

    In order: `Retry-After` (seconds or HTTP-date), `Retry-After-Ms`, `X-RateLimit-Reset`
    / `RateLimit-Reset` (epoch or seconds; only when the limit is exhausted or the status
    is 429), OpenAI's `x-ratelimit-reset-requests|tokens` ("6m0s") for an exhausted
    budget, and finally a JSON body's `retry_after` (Slack, Discord, Telegram).
    """
    now = time.time() if now is None else now
    lowered = {k.lower(): v.strip() for k, v in headers.items()}
    value = lowered.get("retry-after")
    if value:
        delay = _retry_after_value(value, now)
        if delay is not None:
            return delay
    milliseconds = _number(lowered.get("retry-after-ms"))
    if milliseconds is not None:
        return max(0.0, milliseconds / 1000.0)
    delay = _ratelimit_reset(lowered, status_code, now)
    if delay is not None:
        return delay
    return _body_retry_after(body)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _retry_after_value(value: str, now: float) -> float | None:
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)


def _ratelimit_reset(lowered: dict[str, str], status_code: int | None, now: float) -> float | None:
    for prefix in ("x-ratelimit-", "ratelimit-"):
        reset = _number(lowered.get(prefix + "reset"))
        if reset is None:
            continue
        remaining = lowered.get(prefix + "remaining")
        if status_code == 429 or (remaining is not None and remaining == "0"):
            return max(0.0, reset - now) if reset > _EPOCH_THRESHOLD else max(0.0, reset)
    waits: list[float] = []
    for kind in ("requests", "tokens"):
        if lowered.get(f"x-ratelimit-remaining-{kind}") == "0":
            reset_text = lowered.get(f"x-ratelimit-reset-{kind}")
            if reset_text:
                try:
                    waits.append(parse_duration(reset_text))
                except ValueError:
                    continue
    return max(waits) if waits else None


def _body_retry_after(body: Any) -> float | None:
    if not isinstance(body, dict):
        return None
    for holder in (body, body.get("parameters"), body.get("error")):
        if isinstance(holder, dict):
            value = holder.get("retry_after")
            if isinstance(value, int | float) and not isinstance(value, bool):
                return max(0.0, float(value))
    return None


def remote_message(body: Any) -> str | None:
    """The provider's own error sentence from a JSON body, when it has one."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        message = error.get("message") or error.get("code") or error.get("type")
        if isinstance(message, str):
            return message
    for key in ("message", "error_description", "description", "detail"):
        value = body.get(key)
        if isinstance(value, str):
            return value
    return error if isinstance(error, str) else None


def _short_text(text: str) -> str | None:
    """A plain-text error body worth quoting (Slack webhooks answer `invalid_payload`)."""
    text = text.strip()
    if not text or len(text) > 200 or "<" in text or "\n" in text:
        return None
    return text


def json_body(response: httpx.Response) -> Any:
    """The parsed JSON body, or None when the response is not JSON."""
    content_type = response.headers.get("content-type", "")
    if "json" not in content_type.lower() or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def status_error(
    response: httpx.Response,
    info: RequestInfo,
    elapsed: float,
    *,
    message: str | None = None,
    error_type: str = "HTTPStatusError",
    retryable: bool | None = None,
    status_code: int | None = None,
) -> RemoteStatusError:
    """A RemoteStatusError with every field filled from an error response.

    `status_code` overrides the HTTP status for providers that report a failure inside a
    200 (Teams connectors relay the real status in the body text).
    """
    body = json_body(response)
    status = response.status_code if status_code is None else status_code
    if message is None:
        message = (
            f"{info.method} {info.safe_url} returned "
            f"{response.status_code} {response.reason_phrase}".rstrip()
        )
        detail = remote_message(body) if body is not None else _short_text(response.text)
        if detail:
            message = f"{message}: {detail[:300]}"
    return RemoteStatusError(
        message,
        action=info.action,
        provider=info.provider,
        status_code=status,
        headers=dict(response.headers),
        body_excerpt=excerpt(response.text),
        error_type=error_type,
        retry_after=parse_retry_after(response.headers, body, status_code=status),
        elapsed=elapsed,
        attempt=info.attempt,
        retryable=retryable,
    )


_TIMEOUT_WHAT = {
    "ConnectTimeout": "connecting to {url} timed out after {timeout:g}s",
    "ReadTimeout": "no response from {method} {url} within the {timeout:g}s timeout",
    "WriteTimeout": "sending the request to {method} {url} timed out after {timeout:g}s",
    "PoolTimeout": "no free connection for {method} {url} within {timeout:g}s",
}


def map_http_exception(exc: Exception, info: RequestInfo, elapsed: float) -> StepError:
    """Translate one httpx exception; the caller raises the result `from exc`."""
    error_type = type(exc).__name__
    fields: dict[str, Any] = {
        "action": info.action,
        "provider": info.provider,
        "error_type": error_type,
        "elapsed": elapsed,
        "attempt": info.attempt,
    }
    where = {"method": info.method, "url": info.safe_url, "timeout": info.timeout}
    if isinstance(exc, httpx.TimeoutException):
        template = _TIMEOUT_WHAT.get(error_type, "{method} {url} timed out after {timeout:g}s")
        return TransportError(template.format(**where), **fields)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL | httpx.LocalProtocolError):
        return ActionInputError(f"cannot send {info.method} {info.safe_url}: {exc}", **fields)
    if isinstance(exc, httpx.ConnectError):
        return TransportError(f"could not connect to {info.safe_url}: {exc}", **fields)
    if isinstance(exc, httpx.TooManyRedirects):
        return TransportError(
            f"{info.method} {info.safe_url}: too many redirects", retryable=False, **fields
        )
    return TransportError(f"{info.method} {info.safe_url} failed: {exc}", **fields)
