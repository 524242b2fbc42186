"""Webhook signatures, the Standard Webhooks way (https://www.standardwebhooks.com), for
the webhooks Kyra receives (`POST /hooks/{id}`) and the notifications it sends.

Each request carries three headers:

    webhook-id: msg_2b7e...              unique per message, the same on every retry
    webhook-timestamp: 1764158400        Unix seconds when this attempt was signed
    webhook-signature: v1,<base64>       HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")

A receiver recomputes the HMAC over the id, the timestamp and the raw body (bytes, before
any JSON parsing), compares it in constant time (several space-separated `v1,` entries
are allowed, for key rotation), refuses a timestamp more than `TOLERANCE_SECONDS` away
from its clock, and refuses an id it has already accepted (its replay cache must keep ids
at least as long as the tolerance window). Signing the id and the timestamp is what makes
a captured request useless: changing either breaks the signature, and an unchanged one is
either too old or already seen.

The key: a `whsec_<base64>` secret (the Standard Webhooks format) is the decoded bytes;
any other secret is used as its UTF-8 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
TOLERANCE_SECONDS = 300
"""How far a timestamp may be from the receiver's clock (either way)."""
KEY_PREFIX = "whsec_"


def key_bytes(key: str | bytes) -> bytes:
    if isinstance(key, bytes):
        return key
    if key.startswith(KEY_PREFIX):
        try:
            return base64.b64decode(key[len(KEY_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            pass
    return key.encode("utf-8")


def new_message_id() -> str:
    return f"msg_{secrets.token_hex(12)}"


def sign(key: str | bytes, message_id: str, timestamp: str, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(key_bytes(key), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def signed_headers(key: str | bytes, message_id: str, now: float, body: bytes) -> dict[str, str]:
    timestamp = str(int(now))
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(key, message_id, timestamp, body),
    }


def verify(
    key: str | bytes,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> str | None:
    """The message id when `headers` sign `body` with `key` within `tolerance` seconds of
    `now`, else None. Replays are the caller's to refuse: remember the id (see the module
    docstring); `headers` is any mapping with lower-case names (or Starlette's headers)."""
    message_id = headers.get(ID_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    given = headers.get(SIGNATURE_HEADER)
    if not message_id or not timestamp or not given:
        return None
    try:
        signed_at = int(timestamp)
    except ValueError:
        return None
    if abs(now - signed_at) > tolerance:
        return None
    expected = sign(key, message_id, timestamp, body)
    for candidate in given.split():
        if hmac.compare_digest(expected, candidate.strip()):
            return message_id
    return None
