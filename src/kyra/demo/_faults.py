"""The fault endpoints: real, stateful misbehaviour keyed by a name in the path.

Every stateful endpoint takes a `{key}` so tests and demos can use fresh state without
resetting the server. State lives in one `FaultState`, guarded by one lock; the lock is
never held while sleeping, so `/slow` does not block other requests.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from kyra.demo._http import BadParameter, Reply, Request, error_reply, retry_after_header
from kyra.demo.provider_errors import provider_reply

MAX_SLOW_SECONDS = 120.0
_HUMAN_FORMAT = (
    ("%Y", "YYYY"),
    ("%y", "YY"),
    ("%m", "MM"),
    ("%d", "DD"),
    ("%H", "HH"),
    ("%M", "mm"),
    ("%S", "ss"),
    ("%b", "Mon"),
    ("%B", "Month"),
    ("%z", "+HHMM"),
)


def human_format(fmt: str) -> str:
    """`%Y-%m-%d` -> `YYYY-MM-DD`, the way APIs describe the format they expect."""
    for directive, text in _HUMAN_FORMAT:
        fmt = fmt.replace(directive, text)
    return fmt


def _lookup(data: Any, dotted: str) -> tuple[bool, Any]:
    node = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


class FaultState:
    """Per-key counters and clocks for the stateful endpoints, plus request statistics."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._now = monotonic
        self._hits: dict[str, deque[float]] = {}
        self._last: dict[str, float] = {}
        self._counts: Counter[str] = Counter()
        self._first: dict[str, float] = {}
        self._paths: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._levels: dict[str, tuple[float, float]] = {}

    def record(self, path: str, status: int) -> None:
        with self._lock:
            self._paths[path] += 1
            self._statuses[status] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._paths.values()),
                "paths": dict(self._paths),
                "statuses": {str(k): v for k, v in sorted(self._statuses.items())},
            }

    def reset(self) -> None:
        with self._lock:
            for table in (
                self._hits,
                self._last,
                self._counts,
                self._first,
                self._paths,
                self._statuses,
                self._levels,
            ):
                table.clear()

    def count(self, key: str) -> int:
        """Increments and returns the request number on `key` (1 for the first)."""
        with self._lock:
            self._counts[key] += 1
            return self._counts[key]

    # -- endpoints -------------------------------------------------------------------

    def ratelimit(self, req: Request, key: str) -> Reply:
        """A rolling-window limiter: at most `limit` accepted requests per `window` s,
        announced in the headers of one provider family (`style`, see `quota_headers`).
        `bucket` names the limiter when several routes share one (else the key does);
        `style=shopify` is a leaky bucket of `limit` draining `limit / window` a second."""
        limit = req.integer("limit", 5, low=1)
        window = req.number("window", 1.0, low=0.001)
        style = req.arg("style", "x") or "x"
        if style not in QUOTA_STYLES:
            raise BadParameter(f"style must be one of {', '.join(QUOTA_STYLES)} (got {style!r})")
        name = req.arg("bucket") or key
        if style == "shopify":
            accepted, wait, used = self._leak(name, limit, limit / window)
        else:
            accepted, wait, used = self._roll(name, limit, window)
        headers = quota_headers(style, limit, window, limit - used, wait, name, accepted)
        if accepted:
            return Reply(200, {"ok": True, "key": key, "remaining": limit - used}, headers)
        return error_reply(
            429,
            "rate_limited",
            f"Too many requests: at most {limit} per {window:g}s on {name!r}",
            [retry_after_header(wait), *headers],
            retry_after=round(wait, 3),
        )

    def _roll(self, name: str, limit: int, window: float) -> tuple[bool, float, int]:
        """(accepted, seconds until the window's oldest request expires, requests in it)."""
        with self._lock:
            now = self._now()
            hits = self._hits.setdefault("ratelimit:" + name, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            accepted = len(hits) < limit
            if accepted:
                hits.append(now)
            return accepted, hits[0] + window - now, len(hits)

    def _leak(self, name: str, size: int, leak: float) -> tuple[bool, float, int]:
        """(accepted, seconds until one more request fits, whole requests in the bucket)."""
        with self._lock:
            now = self._now()
            level, since = self._levels.get(name, (0.0, now))
            level = max(0.0, level - (now - since) * leak)
            accepted = level + 1 <= size
            if accepted:
                level += 1
            self._levels[name] = (level, now)
            return accepted, max(0.0, level + 1 - size) / leak, math.ceil(level - 1e-9)

    def pace(self, req: Request, key: str) -> Reply:
        """429 unless `min_interval` s passed since the previous accepted request."""
        interval = req.number("min_interval", 1.0)
        with self._lock:
            now = self._now()
            last = self._last.get("pace:" + key)
            wait = 0.0 if last is None else last + interval - now
            if wait <= 0:
                self._last["pace:" + key] = now
        if wait <= 0:
            return Reply(200, {"ok": True, "key": key})
        return error_reply(
            429,
            "too_fast",
            f"Requests on {key!r} must be at least {interval:g}s apart",
            [retry_after_header(wait)],
            retry_after=round(wait, 3),
        )

    def flaky(self, req: Request, key: str) -> Reply:
        """The first `fail` requests on `key` fail with `status`, then 200."""
        fail = req.integer("fail", 1)
        status = req.status()
        number = self.count("flaky:" + key)
        if number > fail:
            return Reply(200, {"ok": True, "key": key, "request": number})
        headers = []
        if req.arg("retry_after"):
            headers.append(retry_after_header(req.number("retry_after", 1.0)))
        return error_reply(
            status, "flaky_failure", f"Simulated failure {number} of {fail} on {key!r}", headers
        )

    def window(self, req: Request, key: str) -> Reply:
        """An outage: `status` for `seconds` after the first request on `key`, then 200."""
        seconds = req.number("seconds", 1.0)
        status = req.status()
        with self._lock:
            now = self._now()
            first = self._first.setdefault("window:" + key, now)
        left = first + seconds - now
        if left <= 0:
            return Reply(200, {"ok": True, "key": key})
        headers = []
        if req.arg("retry_after") == "auto":  # announce the outage's real remaining time
            headers.append(retry_after_header(left))
        elif req.arg("retry_after"):
            headers.append(retry_after_header(req.number("retry_after", 1.0)))
        return error_reply(
            status, "service_unavailable", f"Outage on {key!r} for another {left:.2f}s", headers
        )

    def slow(self, req: Request, key: str | None) -> Reply:
        """Sleeps `delay` s before answering (only the first `times` requests with a key)."""
        delay = req.number("delay", 1.0, high=MAX_SLOW_SECONDS)
        if key is not None:
            times = req.integer("times", 1)
            if self.count("slow:" + key) > times:
                delay = 0.0
        if delay > 0:
            time.sleep(delay)
        return Reply(200, {"ok": True, "delayed": delay})


QUOTA_STYLES = ("x", "github", "ietf", "ietf-draft", "shopify", "stripe")


def quota_headers(
    style: str, limit: int, window: float, remaining: int, wait: float, name: str, accepted: bool
) -> list[tuple[str, str]]:
    """A limiter's state as one provider family announces it: `x` X-RateLimit-* (reset as
    epoch seconds), `github` the same plus Used and Resource (the limiter's name),
    `ietf` RateLimit / RateLimit-Policy (draft-ietf-httpapi-ratelimit-headers-08+),
    `ietf-draft` RateLimit-Limit/-Remaining/-Reset (delta seconds), `shopify`
    X-Shopify-Shop-Api-Call-Limit (used/size), `stripe` nothing but the limiter's name
    on a 429 (Stripe-Rate-Limited-Reason)."""
    reset = math.ceil(wait)
    if style == "ietf":
        return [
            ("RateLimit-Policy", f'"{name}";q={limit};w={window:g}'),
            ("RateLimit", f'"{name}";r={remaining};t={reset}'),
        ]
    if style == "ietf-draft":
        return [
            ("RateLimit-Limit", str(limit)),
            ("RateLimit-Remaining", str(remaining)),
            ("RateLimit-Reset", str(reset)),
            ("RateLimit-Policy", f"{limit};w={window:g}"),
        ]
    if style == "shopify":
        return [("X-Shopify-Shop-Api-Call-Limit", f"{limit - remaining}/{limit}")]
    if style == "stripe":
        return [] if accepted else [("Stripe-Rate-Limited-Reason", name)]
    headers = [
        ("X-RateLimit-Limit", str(limit)),
        ("X-RateLimit-Remaining", str(remaining)),
        ("X-RateLimit-Reset", str(math.ceil(time.time() + wait))),
    ]
    if style == "github":
        headers += [("X-RateLimit-Used", str(limit - remaining)), ("X-RateLimit-Resource", name)]
    return headers


MAX_STREAM_BYTES = 1_000_000_000
_FILL = b"x" * 65_536


def drip(req: Request) -> Reply:
    """200, a body trickling in: `chunks` chunks of `size` bytes, one every `every` s
    (a stream no per-read timeout ever catches)."""
    chunks = req.integer("chunks", 100, low=1, high=100_000)
    size = req.integer("size", 1024, low=1, high=1_000_000)
    every = req.number("every", 0.5, high=MAX_SLOW_SECONDS)
    return Reply(
        200, chunks=(b"x" * size for _ in range(chunks)), every=every, content_type="text/plain"
    )


def big(req: Request) -> Reply:
    """200, a JSON body of `bytes` bytes (`{"data": "xxx..."}`), streamed as it is made."""
    total = req.integer("bytes", 100_000_000, low=16, high=MAX_STREAM_BYTES)

    def body() -> Iterator[bytes]:
        yield b'{"data": "'
        left = total - 12
        while left > 0:
            piece = _FILL[: min(left, len(_FILL))]
            left -= len(piece)
            yield piece
        yield b'"}'

    return Reply(200, chunks=body())


def dates(req: Request) -> Reply:
    """400 `invalid_date_format` unless the JSON field parses with the given format."""
    fmt = req.arg("format", "%Y-%m-%d") or "%Y-%m-%d"
    name = req.arg("field", "date") or "date"
    data = req.json()
    if not isinstance(data, dict):
        return error_reply(400, "invalid_json", "The request body must be a JSON object")
    found, value = _lookup(data, name)
    if not found or value in (None, ""):
        return error_reply(
            400, "missing_required_field", f"Missing required field: {name}", field=name
        )
    try:
        datetime.strptime(str(value), fmt)
    except ValueError:
        return error_reply(
            400,
            "invalid_date_format",
            f"Invalid date format for field '{name}': expected {human_format(fmt)} "
            f"(got '{str(value)[:100]}')",
            field=name,
            expected_format=fmt,
        )
    return Reply(200, {"ok": True, "field": name, "value": value})


def require(req: Request) -> Reply:
    """400 `missing_required_field` naming the first absent or empty field (`allowed=a,b`
    lists the values it accepts in the message, as many services do)."""
    fields = [f.strip() for f in (req.arg("fields", "") or "").split(",") if f.strip()]
    data = req.json()
    if not isinstance(data, dict):
        data = {}
    allowed = req.arg("allowed", "") or ""
    listed = f" (must be one of: {allowed.replace(',', ', ')})" if allowed else ""
    for name in fields:
        found, value = _lookup(data, name)
        if not found or value in (None, ""):
            return error_reply(
                400,
                "missing_required_field",
                f"Missing required field: {name}{listed}",
                field=name,
            )
    return Reply(200, {"ok": True, "received": data})


def versioned(req: Request) -> Reply:
    """400 `api_version_mismatch` unless the named header carries the required version."""
    header = req.arg("header", "X-API-Version") or "X-API-Version"
    version = req.arg("version", "2024-06-01") or "2024-06-01"
    if req.headers.get(header.lower(), "") == version:
        return Reply(200, {"ok": True, "version": version})
    return error_reply(
        400,
        "api_version_mismatch",
        f"Unsupported API version: this endpoint requires version {version} "
        f"(send the {header} header)",
    )


def validate(req: Request) -> Reply:
    """400 unless the JSON body's `field` matches `pattern`. `kind=parameter` answers like
    an invalid parameter (Stripe-style), `kind=data` like a failed data validation."""
    name = req.arg("field", "currency") or "currency"
    pattern = req.arg("pattern", "^[A-Z]{3}$") or "^[A-Z]{3}$"
    data = req.json()
    found, value = _lookup(data if isinstance(data, dict) else {}, name)
    if found and isinstance(value, str | int | float) and re.fullmatch(pattern, str(value)):
        return Reply(200, {"ok": True, "received": data})
    if (req.arg("kind", "parameter") or "parameter") == "data":
        return error_reply(
            422, "validation_error", f"Validation failed: {name!r} is not a valid value", field=name
        )
    return error_reply(
        400, "parameter_invalid", f"Invalid value for parameter '{name}': {value!r}", param=name
    )


def auth(req: Request) -> Reply:
    """401 `invalid_api_key` unless `Authorization: Bearer <token>`."""
    token = req.arg("token", "test-token") or ""
    if req.headers.get("authorization", "") == f"Bearer {token}":
        return Reply(200, {"ok": True, "authenticated": True})
    return Reply(
        401,
        {"error": "invalid_api_key", "message": "Invalid API key provided."},
        [("WWW-Authenticate", 'Bearer realm="kyra-fault", error="invalid_token"')],
    )


def status(req: Request, code_text: str) -> Reply:
    """Any status, with an optional `body` text and repeatable `header=Name:Value`."""
    try:
        code = int(code_text)
    except ValueError:
        raise BadParameter(f"status must be a number (got {code_text!r})") from None
    if not 200 <= code <= 599:
        raise BadParameter("status must be between 200 and 599")
    headers: list[tuple[str, str]] = []
    for item in req.query.get("header", []):
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise BadParameter(f"header must look like Name:Value (got {item!r})")
        headers.append((name.strip(), value.strip()))
    text = req.arg("body")
    if text is None:
        return Reply(code, {"status": code}, headers)
    reply = Reply(code, headers=headers, raw=text.encode())
    reply.content_type = "application/json" if _is_json(text) else "text/plain; charset=utf-8"
    return reply


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def provider(req: Request, name: str, case: str) -> Reply:
    reply = provider_reply(name, case, req)
    if reply is None:
        return error_reply(404, "unknown_case", f"No canned error {name}/{case}")
    return reply
