"""The channel interface: one `send(out)` per delivery attempt, raising `ChannelError`.

A channel formats a `Notification` for its receiver and sends it once; retries, backoff,
deduplication and bookkeeping belong to the `Notifier`, so a new channel is only a
payload and a POST.

Example:

    class Discord:
        kind = "discord"
        def __init__(self, config: DiscordConfig) -> None: ...
        def send(self, out: Outgoing) -> Sent:
            post_json(out, self.config.resolve_url(out.secrets), {"content": out.note.text})
            return Sent()
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

import httpx

from kyra.actions.httperrors import excerpt, parse_retry_after
from kyra.notify.messages import Notification
from kyra.notify.routing import BaseChannelConfig
from kyra.notify.settings import NotifySettings
from kyra.store.notify import Delivery

USER_AGENT = "Kyra-Notifier/1"


class ChannelError(Exception):
    """One attempt failed; `retryable` says whether another attempt may succeed.

    Messages never contain the receiver's URL: Slack and Teams URLs are credentials.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after = retry_after


@dataclass(frozen=True)
class Outgoing:
    """One delivery as a channel sees it."""

    delivery_id: int
    note: Notification
    now: datetime
    http: httpx.Client
    settings: NotifySettings
    secrets: Mapping[str, str] = field(default_factory=dict)
    earlier: tuple[Delivery, ...] = ()
    """Earlier deliveries of the same incident on the same channel (threading, PagerDuty)."""


@dataclass(frozen=True)
class Sent:
    """What a successful send leaves behind for the thread's next message."""

    message_id: str | None = None
    subject: str | None = None
    skipped: str | None = None
    """Set when the channel chose not to send (e.g. a resolve with nothing to resolve)."""


class Channel(Protocol):
    kind: ClassVar[str]

    @property
    def config(self) -> BaseChannelConfig: ...

    def send(self, out: Outgoing) -> Sent: ...


def retryable_status(status: int) -> bool:
    return status in (408, 425, 429) or status >= 500


def post_json(
    out: Outgoing,
    url: str,
    payload: Any,
    *,
    what: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
) -> httpx.Response:
    """POST JSON once with the notifier's timeout; every failure becomes a ChannelError."""
    data = body if body is not None else json.dumps(payload, ensure_ascii=False).encode()
    request_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    request_headers.update(headers or {})
    try:
        response = out.http.post(
            url,
            content=data,
            headers=request_headers,
            timeout=out.settings.timeout_seconds,
            follow_redirects=False,
        )
    except httpx.TimeoutException as exc:
        raise ChannelError(f"{what} did not answer in time", retryable=True) from exc
    except httpx.HTTPError as exc:
        raise ChannelError(
            f"could not reach {what}: {type(exc).__name__}: {exc}", retryable=True
        ) from exc
    if response.status_code >= 400:
        raise ChannelError(
            f"{what} answered HTTP {response.status_code}: {excerpt(response.text, 300)}",
            retryable=retryable_status(response.status_code),
            status_code=response.status_code,
            retry_after=parse_retry_after(response.headers, status_code=response.status_code),
        )
    return response
