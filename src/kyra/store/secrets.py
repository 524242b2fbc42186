"""Per-tenant secrets, encrypted at rest. Values are returned only to the executor."""

from __future__ import annotations

import re

from sqlalchemy import bindparam, delete, select

from kyra.errors import NotFoundError, SecretError
from kyra.store.crypto import SecretBox
from kyra.store.db import Store
from kyra.store.tables import Secret
from kyra.store.types import utcnow

SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


def set_secret(store: Store, box: SecretBox, tenant_id: str, name: str, value: str) -> bool:
    """Create or replace a secret; True when it was new."""
    if not SECRET_NAME.match(name):
        raise SecretError(
            f"invalid secret name {name!r}: use letters, digits and '_' (e.g. SLACK_WEBHOOK)"
        )
    if not value:
        raise SecretError("a secret value cannot be empty")
    ciphertext = box.encrypt(value)
    with store.session.begin() as session:
        row = session.scalar(
            select(Secret).where(Secret.tenant_id == tenant_id, Secret.name == name)
        )
        if row is None:
            session.add(Secret(tenant_id=tenant_id, name=name, ciphertext=ciphertext))
            return True
        row.ciphertext = ciphertext
        row.updated_at = utcnow()
        return False


def secret_names(store: Store, tenant_id: str) -> list[str]:
    with store.session() as session:
        return list(
            session.scalars(
                select(Secret.name).where(Secret.tenant_id == tenant_id).order_by(Secret.name)
            )
        )


_ENCRYPTED = select(Secret.name, Secret.ciphertext).where(Secret.tenant_id == bindparam("b_tenant"))


def encrypted_secrets(store: Store, tenant_id: str) -> list[tuple[str, bytes]]:
    """(name, ciphertext) of every secret of a tenant; one cheap query per execution."""
    with store.reader.connect() as conn:
        return [
            (name, bytes(token))
            for name, token in conn.execute(_ENCRYPTED, {"b_tenant": tenant_id})
        ]


def load_secrets(store: Store, box: SecretBox, tenant_id: str) -> dict[str, str]:
    """Every secret of a tenant, decrypted (for rendering and for redaction)."""
    return {name: box.decrypt(token) for name, token in encrypted_secrets(store, tenant_id)}


def delete_secret(store: Store, tenant_id: str, name: str) -> None:
    with store.session.begin() as session:
        result = session.execute(
            delete(Secret).where(Secret.tenant_id == tenant_id, Secret.name == name)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFoundError(f"no secret named {name!r}")
