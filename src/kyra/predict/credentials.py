"""When a credential expires, read from the credential itself or from what a provider
says about it. Pure functions: no store, no clock, no logging (a value passed here is a
secret; nothing of it may leave except a date).

* A JWT secret (`header.payload.signature`, optionally after `Bearer `): its `exp`
  claim, decoded without verifying the signature (Kyra holds no provider key, and a
  date to warn about needs no trust: a forged `exp` only moves a warning).
* An OAuth token stored as JSON (`{"access_token": ..., "expires_at": ...}`): its
  `expires_at` (epoch seconds or ISO 8601), `expiry` (ISO 8601, as Google's client
  libraries store it) or `expires_on` (epoch seconds, as Azure's token responses carry
  it); or, failing those, the `exp` of its access token when that is a JWT.
* A TLS certificate (DER, as the connection presented it): its `notAfter`.
* A provider's response header announcing the expiry of the credential the request
  sent, from `EXPIRY_HEADERS`. GitHub sends `GitHub-Authentication-Token-Expiration`
  on every REST response made with an expiring token (personal access tokens, GitHub
  App user tokens), as `2021-09-03 02:34:04 UTC` or `2023-04-26 20:23:26 +0200`.
  Headers describing something else (an API version's `Sunset`, a response's
  `Expires`) are not credential expiry and are not read.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_SECRET_CHARS = 16_384
"""Longer values are not parsed (no JWT or token object is that large)."""
_PART = r"([A-Za-z0-9_-]{2,}={0,2})"
_JWT = re.compile(rf"^(?:bearer\s+)?{_PART}\.{_PART}\.([A-Za-z0-9_-]*={{0,2}})$", re.I)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Expiry:
    """A credential's end of life; `form` says how it was read (jwt, oauth, tls, header)."""

    at: datetime
    form: str
    header: str = ""
    """The response header that announced it (form `header`)."""


def _b64json(part: str) -> Any:
    padded = part + "=" * (-len(part) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        at = datetime.fromtimestamp(float(value), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return at if at < _LATEST else None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def jwt_expiry(value: str) -> datetime | None:
    """The `exp` of a JWT (its signature is not checked); None when `value` is not a JWT
    with a numeric `exp`."""
    if len(value) > MAX_SECRET_CHARS:
        return None
    match = _JWT.match(value.strip())
    if match is None:
        return None
    header, payload = _b64json(match.group(1)), _b64json(match.group(2))
    if not isinstance(header, dict) or "alg" not in header or not isinstance(payload, dict):
        return None
    return _epoch(payload.get("exp"))


def oauth_expiry(value: str) -> datetime | None:
    """The expiry of an OAuth token stored as a JSON object; None when unknown."""
    text = value.strip()
    if len(text) > MAX_SECRET_CHARS or not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not any(
        k in data for k in ("access_token", "token", "refresh_token")
    ):
        return None
    for key, read in (("expires_at", None), ("expiry", _iso), ("expires_on", _epoch)):
        raw = data.get(key)
        if raw is None:
            continue
        if read is None:
            at = _epoch(raw) or _iso(raw)
        elif key == "expires_on" and isinstance(raw, str) and raw.isdigit():
            at = _epoch(int(raw))  # Azure sends it as a string of digits
        else:
            at = read(raw)
        if at is not None:
            return at
    token = data.get("access_token")
    return jwt_expiry(token) if isinstance(token, str) else None


def secret_expiry(value: str) -> Expiry | None:
    """The expiry of a secret's value, when the value says it (a JWT, an OAuth token
    object); None for an opaque key."""
    at = jwt_expiry(value)
    if at is not None:
        return Expiry(at, "jwt")
    at = oauth_expiry(value)
    return Expiry(at, "oauth") if at is not None else None


def certificate_expiry(der: bytes) -> datetime | None:
    """`notAfter` of a DER certificate; None when it cannot be read."""
    from cryptography import x509  # a core dependency; loaded on the first HTTPS call

    try:
        return x509.load_der_x509_certificate(der).not_valid_after_utc
    except ValueError:
        return None


def _github(value: str) -> datetime | None:
    text = value.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S %z"):
        try:
            at = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return None


EXPIRY_HEADERS = {"github-authentication-token-expiration": _github}
"""Response headers (lower case) in which a provider announces when the credential the
request carried expires, each with its parser."""


def header_expiry(headers: Mapping[str, str]) -> Expiry | None:
    """The credential expiry a response announces, if it carries a header that says so."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, parse in EXPIRY_HEADERS.items():
        value = lowered.get(name)
        if value and len(value) <= 64:
            at = parse(value)
            if at is not None:
                return Expiry(at, "header", header=name)
    return None
