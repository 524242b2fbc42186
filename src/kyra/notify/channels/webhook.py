"""A generic JSON webhook, signed with HMAC-SHA256 the way Stripe and Slack sign theirs.

Each POST carries:

    X-Kyra-Event: verified
    X-Kyra-Delivery: 42                 stable across retries: receivers can deduplicate
    X-Kyra-Timestamp: 1764158400        Unix seconds when this attempt was signed
    X-Kyra-Signature: sha256=<hex>      HMAC-SHA256(key, "<timestamp>.<raw body>")

To verify, a receiver recomputes the HMAC over the timestamp header, a dot and the raw
request body (bytes, before any JSON parsing), compares it in constant time, and rejects
timestamps older than a few minutes (replays)::

    expected = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(f"sha256={expected}", signature)
         and abs(time.time() - int(timestamp)) <= 300

`verify_signature` below does exactly that. The key is the value of the tenant secret the
channel names in `signing_secret`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, ClassVar

from kyra.notify.channels.base import Outgoing, Sent, post_json
from kyra.notify.messages import Notification
from kyra.notify.routing import WebhookConfig, resolve_secret

SIGNATURE_HEADER = "X-Kyra-Signature"
TIMESTAMP_HEADER = "X-Kyra-Timestamp"
TOLERANCE_SECONDS = 300
PAYLOAD_VERSION = 1


def sign(key: str | bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(key, "<timestamp>.<body>")."""
    secret = key.encode() if isinstance(key, str) else key
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    key: str | bytes,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    now: float | None = None,
    tolerance: float = TOLERANCE_SECONDS,
) -> bool:
    """True when `signature` signs `body` at `timestamp` with `key`, and the timestamp is
    within `tolerance` seconds of `now` (default: the current time)."""
    if not timestamp or not signature:
        return False
    try:
        signed_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - signed_at) > tolerance:
        return False
    return hmac.compare_digest(sign(key, timestamp, body), signature.strip())


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
        timestamp = str(int(out.now.timestamp()))
        headers = {
            "X-Kyra-Event": out.note.kind,
            "X-Kyra-Delivery": str(out.delivery_id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(key, timestamp, body),
        }
        post_json(out, url, None, what="the webhook", headers=headers, body=body)
        return Sent()
