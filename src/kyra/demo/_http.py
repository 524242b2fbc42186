"""Request and reply values shared by the fault server's endpoints (no I/O here)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    """What an endpoint sees of a request: parsed once by the handler."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Header names lower-cased; repeated headers joined with ', '."""
    body: bytes = b""

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def number(self, name: str, default: float, *, low: float = 0.0, high: float = 3600.0) -> float:
        """A numeric query parameter within [low, high]; BadParameter otherwise."""
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            value = float(raw)
        except ValueError:
            raise BadParameter(f"query parameter {name!r} must be a number (got {raw!r})") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise BadParameter(f"query parameter {name!r} must be between {low:g} and {high:g}")
        return value

    def integer(self, name: str, default: int, *, low: int = 0, high: int = 1_000_000) -> int:
        return int(self.number(name, default, low=low, high=high))

    def status(self, name: str = "status", default: int = 503) -> int:
        return self.integer(name, default, low=200, high=599)

    def json(self) -> Any:
        """The JSON body, or None when there is none or it is not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None

    def flat_query(self) -> dict[str, str | list[str]]:
        return {k: v[0] if len(v) == 1 else list(v) for k, v in self.query.items()}


class BadParameter(ValueError):
    """A query parameter of a fault endpoint is malformed; answered with 400."""


@dataclass
class Reply:
    """An HTTP response: a JSON-able `body`, or `raw` bytes with their content type."""

    status: int = 200
    body: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    raw: bytes | None = None
    content_type: str = "application/json"
    chunks: Iterable[bytes] | None = None
    """A streamed body: sent with chunked transfer encoding, one chunk at a time."""
    every: float = 0.0
    """Seconds to wait before each streamed chunk (a slow, dripping upstream)."""

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode()


def error_reply(
    status: int,
    code: str,
    message: str,
    headers: list[tuple[str, str]] | None = None,
    **extra: Any,
) -> Reply:
    """The fault server's own error shape: {"error": {"code", "message", ...}}."""
    return Reply(status, {"error": {"code": code, "message": message, **extra}}, headers or [])


def retry_after_header(seconds: float) -> tuple[str, str]:
    """Retry-After as whole seconds (the HTTP grammar), rounded up, at least 1."""
    return ("Retry-After", str(max(1, math.ceil(seconds))))
