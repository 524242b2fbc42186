"""The shared picture of upstream limits and circuits, per (tenant, host, scope).

Processes pace and break in memory (`kyra.engine.fleet`) and publish here what changed;
`kyra status` reads it; `kyra fleet reset` deletes rows, and every process forgets what
it had learned for a deleted row at its next sync.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kyra.store.db import Store
from kyra.store.fleet_tables import FleetScopeRow


@dataclass(frozen=True)
class ScopeState:
    tenant_id: str
    host: str
    scope: str
    rate: float | None = None
    source: str = ""
    reason: str = ""
    blocked_until: float = 0.0
    block_reason: str = ""
    rate_limited: int = 0
    circuit: str = "closed"
    circuit_retry_at: float = 0.0
    circuit_reason: str = ""
    openings: int = 0
    fix_id: str | None = None
    updated_at: float = 0.0


_COLUMNS = [f.name for f in fields(ScopeState)]


def scopes(store: Store, tenant_id: str | None = None) -> list[ScopeState]:
    query = select(*(getattr(FleetScopeRow, c) for c in _COLUMNS)).order_by(
        FleetScopeRow.tenant_id, FleetScopeRow.host, FleetScopeRow.scope
    )
    if tenant_id is not None:
        query = query.where(FleetScopeRow.tenant_id == tenant_id)
    with store.engine.connect() as conn:
        return [ScopeState(*row) for row in conn.execute(query)]


def save_scopes(store: Store, states: Iterable[ScopeState]) -> None:
    """Insert or update each scope's row (one transaction)."""
    rows = [{c: getattr(s, c) for c in _COLUMNS} for s in states]
    if not rows:
        return
    dialect = store.engine.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(FleetScopeRow)
    keep = {"fix_id"}  # set by a fix, never cleared by a process publishing its pacing
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "host", "scope"],
        set_={
            c: getattr(statement.excluded, c)
            for c in _COLUMNS
            if c not in ("tenant_id", "host", "scope") and c not in keep
        },
    )
    with store.engine.begin() as conn:
        conn.execute(statement, rows)


def mark_fix(store: Store, tenant_id: str, host: str, fix_id: str) -> int:
    """Remember that a fix's diagnosis came from this host's learned pacing."""
    with store.engine.begin() as conn:
        result = conn.execute(
            update(FleetScopeRow)
            .where(FleetScopeRow.tenant_id == tenant_id, FleetScopeRow.host == host)
            .values(fix_id=fix_id)
        )
        return int(result.rowcount or 0)


def reset(
    store: Store, tenant_id: str, host: str | None = None, *, fix_id: str | None = None
) -> int:
    """Forget what was learned: every scope of the tenant, of one host, or of one fix."""
    condition = FleetScopeRow.tenant_id == tenant_id
    if host is not None:
        condition &= FleetScopeRow.host == host
    if fix_id is not None:
        condition &= FleetScopeRow.fix_id == fix_id
    with store.engine.begin() as conn:
        return int(conn.execute(delete(FleetScopeRow).where(condition)).rowcount or 0)
