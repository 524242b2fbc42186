"""`BodyLimit`: a cap on request bodies, enforced before any route reads one.

Routes check their own limits (a workflow document 1 MB, a webhook 256 KiB), but only
after `await request.body()` has buffered the whole body: without a cap in front, one
client (an unauthenticated one, on `/hooks/...`) could make the process hold a
gigabyte, and every tenant served by it would pay. A declared `Content-Length` over the
cap is refused at once; a chunked body is counted as it arrives and refused when it
passes the cap. Either way the answer is a 413 problem, never a 500.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kyra.api.errors import send_problem

MAX_REQUEST_BYTES = 10_000_000
"""The largest body any route takes: a 100-error diagnose batch or a run's inputs."""
PATH_LIMITS = (("/hooks/", 256 * 1024),)
"""Smaller caps by path prefix (a webhook's own limit, before it is read)."""


def limit_for(path: str) -> int:
    """The body cap of a request path."""
    for prefix, limit in PATH_LIMITS:
        if path.startswith(prefix):
            return limit
    return MAX_REQUEST_BYTES


def _too_large(limit: int) -> str:
    return f"a request body is at most {limit} bytes here"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """Pure ASGI middleware refusing request bodies over `limit_for(path)` with a 413."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = limit_for(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is not None and (_content_length(scope) or 0) > limit:
            await send_problem(send, 413, "too_large", _too_large(limit), close=True)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if limit is not None and message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # a chunked body past the cap: the app's handler for
                    # HTTP errors answers this with the same 413 problem
                    raise StarletteHTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)
