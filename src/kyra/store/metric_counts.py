"""Counters kept on write for `/metrics` (see `kyra.store.metrics_tables`).

`bump` runs inside the caller's transaction, so a counter moves exactly when the event
it counts is committed. Histograms are stored as counters too: one series per bucket
(the observation's own bucket, not cumulative: one write per observation), plus `_sum`
and `_count`; `/metrics` accumulates the buckets at scrape time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from kyra.store.db import Store
from kyra.store.metrics_tables import MetricCountRow

_TABLE = MetricCountRow.__table__

REPAIR_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 4 * 3600.0)
"""Seconds from a failed execution to its verified re-run."""
LATENCY_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0)
"""Seconds a diagnosis took."""


def _labels(labels: dict[str, str]) -> str:
    return json.dumps(labels, sort_keys=True)


def bump(conn: Connection, tenant_id: str, name: str, labels: dict[str, str], by: float) -> None:
    """Add `by` to one counter series (created at `by` on first use)."""
    values = {"tenant_id": tenant_id, "name": name, "labels": _labels(labels), "value": by}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_TABLE).values(**values)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id", "name", "labels"],
            set_={"value": _TABLE.c.value + statement.excluded.value},
        )
    )


def observe(
    conn: Connection,
    tenant_id: str,
    name: str,
    labels: dict[str, str],
    value: float,
    buckets: Sequence[float],
) -> None:
    """One observation of a histogram: its bucket, the sum and the count."""
    le = next((str(b) for b in buckets if value <= b), "+Inf")
    bump(conn, tenant_id, f"{name}_bucket", {**labels, "le": le}, 1)
    bump(conn, tenant_id, f"{name}_sum", labels, value)
    bump(conn, tenant_id, f"{name}_count", labels, 1)


@dataclass(frozen=True)
class Count:
    tenant_id: str
    name: str
    labels: dict[str, str]
    value: float


def counts(store: Store, tenant_ids: Iterable[str] | None = None) -> list[Count]:
    """Every counter series (of these tenants; None: all): one row per series."""
    query = select(MetricCountRow)
    if tenant_ids is not None:
        query = query.where(MetricCountRow.tenant_id.in_(list(tenant_ids)))
    with store.session() as session:
        rows: list[Any] = list(session.scalars(query))
    return [Count(r.tenant_id, r.name, json.loads(r.labels), r.value) for r in rows]
