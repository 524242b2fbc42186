"""A generic JSON webhook, signed the Standard Webhooks way (see `kyra.signatures`).

Each POST carries:

    X-Kyra-Event: verified
    X-Kyra-Delivery: 42                 stable across retries
    webhook-id: msg_42_<incident>       stable across retries: receivers deduplicate on it
    webhook-timestamp: 1764158400       Unix seconds when this attempt was signed
    webhook-signature: v1,<base64>      HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")

To verify, a receiver recomputes the HMAC over the id, the timestamp and the raw request
body (bytes, before any JSON parsing), compares it in constant time, rejects timestamps
more than 5 minutes away, and rejects an id it has already accepted (replays)::

    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())

`verify_signature` below does the first three (any Standard Webhooks library does the
same); the replay cache is the receiver's. The key is the value of the tenant secret the
channel names in `signing_secret`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from kyra import signatures
from kyra.notify.channels.base import Outgoing, Sent, post_json
from kyra.notify.messages import Notification
from kyra.notify.routing import WebhookConfig, resolve_secret

PAYLOAD_VERSION = 1
sign = signatures.sign


def verify_signature(
    key: str | bytes,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float | None = None,
    tolerance: float = signatures.TOLERANCE_SECONDS,
) -> str | None:
    """The message id when `headers` (lower-case names) sign `body` with `key` within
    `tolerance` seconds of `now` (default: the current time), else None. Remember the id
    for longer than `tolerance` and refuse it when it comes again."""
    current = time.time() if now is None else now
    return signatures.verify(key, body, headers, now=current, tolerance=tolerance)


def message_id(note: Notification, delivery_id: int) -> str:
    """One id per delivery (the same on every retry of it), unique across incidents."""
    return f"msg_{delivery_id}_{note.incident}"[:200]


def webhook_payload(note: Notification, delivery_id: int) -> dict[str, Any]:
    """The JSON document a webhook receives (`version` changes only on breaking changes)."""
    return {
        "version": PAYLOAD_VERSION,
        "delivery": delivery_id,
        "event": note.kind,
        "status": note.status,
        "incident": note.incident,
        "tenant_id": note.tenant_id,
        "workflow": {"id": note.workflow_id, "name": note.workflow},
        "execution_id": note.execution_id,
        "fix_id": note.fix_id,
        "at": note.at.isoformat(),
        "lang": note.lang,
        "title": note.title,
        "text": note.text,
        "what_broke": {"step": note.step, "error": note.error},
        "diagnosis": note.diagnosis,
        "error_class": note.error_class,
        "changes": list(note.diff),
        "undo": {"command": note.undo_command, "url": note.dashboard_url}
        if note.undo_command
        else None,
        "dashboard_url": note.dashboard_url,
        "values": dict(note.values),
        "explanation": [{"label": k, "text": v} for k, v in note.lesson] or None,
    }


class WebhookChannel:
    """POSTs the signed JSON payload to the configured URL."""

    kind: ClassVar[str] = "webhook"

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config

    def send(self, out: Outgoing) -> Sent:
        key = resolve_secret(self.config.signing_secret, out.secrets)
        url = self.config.resolve_url(out.secrets)
        body = json.dumps(
            webhook_payload(out.note, out.delivery_id),
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        ).encode()
        headers = {
            "X-Kyra-Event": out.note.kind,
            "X-Kyra-Delivery": str(out.delivery_id),
            **signatures.signed_headers(
                key, message_id(out.note, out.delivery_id), out.now.timestamp(), body
            ),
        }
        post_json(out, url, None, what="the webhook", headers=headers, body=body)
        return Sent()
