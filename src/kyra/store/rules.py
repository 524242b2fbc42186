"""Per-tenant custom healing rules, versioned like workflow config: every apply that
changes the text is version N+1 with who and when; the newest version is in force.

The store keeps what it is given: validating the document is `kyra.healing.rules`'s job,
done before `save_rules` is called.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kyra.errors import ConflictError
from kyra.store.db import Store
from kyra.store.rules_tables import RulesVersionRow


@dataclass(frozen=True)
class RulesVersion:
    """One applied rules document."""

    tenant_id: str
    version: int
    source: str
    text: str
    document: dict[str, Any]
    digest: str
    rule_count: int
    author: str
    created_at: datetime


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _version(row: RulesVersionRow) -> RulesVersion:
    return RulesVersion(
        tenant_id=row.tenant_id,
        version=row.version,
        source=row.source,
        text=row.text,
        document=dict(row.document),
        digest=row.digest,
        rule_count=row.rule_count,
        author=row.author,
        created_at=row.created_at,
    )


def save_rules(
    store: Store,
    tenant_id: str,
    *,
    text: str,
    document: dict[str, Any],
    author: str,
    source: str = "",
) -> tuple[RulesVersion, bool]:
    """Append version N+1, or keep the current version when `text` is unchanged.

    Returns `(version, created)`. Raises ConflictError when another apply won the race
    for the same version number (the caller may simply retry).
    """
    digest = digest_of(text)
    try:
        with store.session.begin() as session:
            current = session.scalar(
                select(RulesVersionRow)
                .where(RulesVersionRow.tenant_id == tenant_id)
                .order_by(RulesVersionRow.version.desc())
                .limit(1)
            )
            if current is not None and current.digest == digest:
                return _version(current), False
            row = RulesVersionRow(
                tenant_id=tenant_id,
                version=(current.version if current else 0) + 1,
                source=source[:300],
                text=text,
                document=document,
                digest=digest,
                rule_count=len(document.get("rules") or []),
                author=author[:100],
            )
            session.add(row)
            session.flush()
            return _version(row), True
    except IntegrityError as exc:
        raise ConflictError("the rules were changed concurrently; apply them again") from exc


def current_rules(store: Store, tenant_id: str) -> RulesVersion | None:
    """The rules in force for a tenant, or None when it never applied any."""
    with store.session() as session:
        row = session.scalar(
            select(RulesVersionRow)
            .where(RulesVersionRow.tenant_id == tenant_id)
            .order_by(RulesVersionRow.version.desc())
            .limit(1)
        )
        return _version(row) if row is not None else None


def current_version(store: Store, tenant_id: str) -> int:
    """The number of the rules version in force (0: none); cheap, for caches."""
    with store.session() as session:
        number = session.scalar(
            select(func.max(RulesVersionRow.version)).where(RulesVersionRow.tenant_id == tenant_id)
        )
        return int(number or 0)


def rules_history(store: Store, tenant_id: str, limit: int = 20) -> list[RulesVersion]:
    """Applied versions, newest first."""
    with store.session() as session:
        rows = session.scalars(
            select(RulesVersionRow)
            .where(RulesVersionRow.tenant_id == tenant_id)
            .order_by(RulesVersionRow.version.desc())
            .limit(limit)
        ).all()
        return [_version(row) for row in rows]
