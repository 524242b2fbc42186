"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key from the environment
or a 0600 key file created by `kyra init`."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kyra.errors import SecretError


class SecretBox:
    """Encrypts and decrypts secret values; the key never leaves this object."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise SecretError(
                "the secret key is not a valid Fernet key (32 url-safe base64 bytes)"
            ) from exc

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken as exc:
            raise SecretError(
                "a stored secret cannot be decrypted with the configured key "
                "(KYRA_SECRET_KEY or the key file changed?)"
            ) from exc


def derive_key(master: bytes, purpose: str, size: int = 32) -> bytes:
    """Key material for one purpose (HKDF-SHA256 over the secret key). Keys that sign
    things (dashboard sessions) are derived, never stored: whoever can read the database
    file still cannot forge them without the secret key."""
    return HKDF(
        algorithm=hashes.SHA256(), length=size, salt=None, info=purpose.encode("utf-8")
    ).derive(master)


def create_key_file(path: Path) -> bool:
    """Create a new key file readable only by its owner; False if one already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(Fernet.generate_key())
    return True


def load_key(explicit: str | None, key_file: Path, *, create: bool = False) -> bytes:
    """The environment's key wins; else the key file (created on demand when asked)."""
    if explicit:
        return explicit.encode("ascii")
    if not key_file.exists():
        if not create:
            raise SecretError(
                f"no secret key: set KYRA_SECRET_KEY or run `kyra init` to create {key_file}"
            )
        create_key_file(key_file)
    mode = key_file.stat().st_mode & 0o777
    if mode & 0o077:
        raise SecretError(f"{key_file} is readable by others (mode {mode:o}); chmod 600 it")
    return key_file.read_bytes().strip()
