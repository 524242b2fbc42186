"""API keys: their format, creation and digest.

A key is `kyra_<prefix>_<secret>`: the prefix (8 hex) finds the row, the SHA-256 of the
whole key is compared in constant time. Keys are 256-bit random tokens, so a fast hash is
right (a slow KDF protects guessable passwords, not these). The plaintext is shown once.

Kept out of `kyra.api` so `kyra apikeys create` runs on the core install (no FastAPI).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from kyra.errors import ConflictError
from kyra.store import api as api_store
from kyra.store.api import ApiKeyInfo

if TYPE_CHECKING:
    from kyra.app import Kyra

KEY_SCHEME = "kyra"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_key(kyra: Kyra, tenant_id: str, name: str = "") -> tuple[ApiKeyInfo, str]:
    """A new key for a tenant; returns (stored info, the plaintext key to show once)."""
    for _ in range(3):
        prefix = secrets.token_hex(4)
        key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
        try:
            return api_store.add_api_key(kyra.store, tenant_id, prefix, digest(key), name), key
        except ConflictError:
            continue
    raise ConflictError("could not find a free API key prefix; try again")


def key_prefix(key: str) -> str | None:
    scheme, sep, rest = key.partition("_")
    prefix, sep2, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not sep or not sep2 or len(prefix) != 8 or not secret:
        return None
    return prefix
