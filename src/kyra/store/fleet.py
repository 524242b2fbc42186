"""The shared picture of upstream limits and circuits, per (tenant, host, scope).

Processes pace and break in memory (`kyra.engine.fleet`) and publish here what changed;
`kyra status` reads it; `kyra fleet reset` deletes rows, and every process forgets what
it had learned for a deleted row at its next sync.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from sqlalchemy import delete, select
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
    updated_at: float = 0.0


_COLUMNS = [f.name for f in fields(ScopeState)]


def scopes(store: Store, tenant_id: str | None = None) -> list[ScopeState]:
    query = select(*(getattr(FleetScopeRow, c) for c in _COLUMNS)).order_by(
        FleetScopeRow.tenant_id, FleetScopeRow.host, FleetScopeRow.scope
    )
    if tenant_id is not None:
        query = query.where(FleetScopeRow.tenant_id == tenant_id)
    with store.reader.connect() as conn:
        return [ScopeState(*row) for row in conn.execute(query)]


def save_scopes(store: Store, states: Iterable[ScopeState]) -> None:
    """Insert or update each scope's row (one transaction)."""
    rows = [{c: getattr(s, c) for c in _COLUMNS} for s in states]
    if not rows:
        return
    dialect = store.engine.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(FleetScopeRow)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "host", "scope"],
        set_={
            c: getattr(statement.excluded, c)
            for c in _COLUMNS
            if c not in ("tenant_id", "host", "scope")
        },
    )
    with store.engine.begin() as conn:
        conn.execute(statement, rows)


def reset(store: Store, tenant_id: str, host: str | None = None) -> int:
    """Forget what was learned: every scope of the tenant, or of one host."""
    condition = FleetScopeRow.tenant_id == tenant_id
    if host is not None:
        condition &= FleetScopeRow.host == host
    with store.engine.begin() as conn:
        return int(conn.execute(delete(FleetScopeRow).where(condition)).rowcount or 0)
