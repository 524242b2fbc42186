"""API key checks and dashboard sessions (the key format lives in `kyra.apikeys`).

The dashboard signs in with a key and gets a session cookie: `payload.signature`, HMAC-
SHA256 with a key derived (HKDF) from the secret key, so every `kyra serve` sharing that
key accepts it and nothing in the database is enough to forge one. The session names the
API key; revoking the key ends it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kyra.api.errors import ApiError
from kyra.apikeys import create_api_key as create_api_key
from kyra.apikeys import digest, key_prefix
from kyra.app import Kyra
from kyra.store import api as api_store
from kyra.store.api import ApiKeyInfo

SESSION_COOKIE = "kyra_session"
SESSION_TTL = timedelta(hours=12)
SESSION_KEY_PURPOSE = "kyra dashboard session v1"
TOUCH_EVERY = timedelta(minutes=1)
"""`last_used_at` is written at most this often per key (no write per request)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: always exactly one tenant."""

    tenant_id: str
    tenant_name: str
    key_prefix: str

    @property
    def actor(self) -> str:
        return f"apikey:{self.key_prefix}"


def verify_api_key(kyra: Kyra, key: str) -> ApiKeyInfo | None:
    """The key's row if the key is genuine and not revoked, else None."""
    prefix = key_prefix(key)
    if prefix is None:
        return None
    info = api_store.find_api_key(kyra.store, prefix)
    if info is None or info.revoked:
        return None
    if not hmac.compare_digest(info.key_hash, digest(key)):
        return None
    now = kyra.clock.now()
    if info.last_used_at is None or now - info.last_used_at > TOUCH_EVERY:
        api_store.touch_api_key(kyra.store, info.id, now)
    return info


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def kyra_of(request: Request) -> Kyra:
    kyra: Kyra = request.app.state.kyra
    return kyra


BEARER = HTTPBearer(
    scheme_name="apiKey",
    bearerFormat="kyra_<prefix>_<secret>",
    description="An API key: `kyra apikeys create --tenant NAME` or `POST /api/v1/apikeys`.",
    auto_error=False,
)
"""Documents the scheme in OpenAPI (Swagger UI's Authorize button); the check is ours."""


def principal_of(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The tenant of the `Authorization: Bearer <key>` header, or a 401."""
    key = credentials.credentials.strip() if credentials is not None else ""
    if not key:
        raise _unauthorized("send Authorization: Bearer <API key>")
    info = verify_api_key(kyra_of(request), key)
    if info is None:
        raise _unauthorized("invalid or revoked API key")
    return Principal(info.tenant_id, info.tenant_name, info.prefix)


async def bearer_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Principal:
    """FastAPI dependency for `principal_of`. Async: one indexed read costs less on the
    event loop than a hop to the thread pool and back."""
    return principal_of(request, credentials)


Auth = Annotated[Principal, Depends(bearer_principal)]


# -- dashboard sessions --------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    """Signs and checks session cookies and the CSRF tokens bound to them."""

    def __init__(self, kyra: Kyra) -> None:
        self.kyra = kyra
        self._secret = kyra.derived_key(SESSION_KEY_PURPOSE)

    def _sign(self, purpose: str, payload: str) -> str:
        mac = hmac.new(self._secret, f"{purpose}:{payload}".encode(), hashlib.sha256)
        return _b64(mac.digest())

    def issue(self, info: ApiKeyInfo) -> str:
        expires = int((self.kyra.clock.now() + SESSION_TTL).timestamp())
        payload = _b64(json.dumps({"k": info.prefix, "e": expires}).encode())
        return f"{payload}.{self._sign('session', payload)}"

    def check(self, cookie: str | None) -> Principal | None:
        if not cookie or "." not in cookie:
            return None
        payload, _, signature = cookie.partition(".")
        if not hmac.compare_digest(signature, self._sign("session", payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            prefix, expires = str(data["k"]), int(data["e"])
        except (ValueError, KeyError, TypeError):
            return None
        if expires < self.kyra.clock.now().timestamp():
            return None
        info = api_store.find_api_key(self.kyra.store, prefix)
        if info is None or info.revoked:
            return None
        return Principal(info.tenant_id, info.tenant_name, info.prefix)

    def csrf(self, cookie: str) -> str:
        return self._sign("csrf", cookie)[:32]

    def csrf_ok(self, cookie: str | None, token: str | None) -> bool:
        if not cookie or not token:
            return False
        return hmac.compare_digest(self.csrf(cookie), token)
