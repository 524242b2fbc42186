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

from sqlalchemy import Connection, bindparam, select
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


def _build_upsert(dialect: Any) -> Any:
    insert = dialect.insert(_TABLE).values(
        tenant_id=bindparam("m_tenant"),
        name=bindparam("m_name"),
        labels=bindparam("m_labels"),
        value=bindparam("m_value"),
    )
    return insert.on_conflict_do_update(
        index_elements=["tenant_id", "name", "labels"],
        set_={"value": _TABLE.c.value + insert.excluded.value},
    )


# Built once per dialect: `bump` runs in the executor's hot path (every finished
# execution), where building and cache-keying a statement per call would cost more than
# executing it.
_UPSERTS = {"postgresql": _build_upsert(postgresql), "sqlite": _build_upsert(sqlite)}


def bump(conn: Connection, tenant_id: str, name: str, labels: dict[str, str], by: float) -> None:
    """Add `by` to one counter series (created at `by` on first use)."""
    statement = _UPSERTS["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    conn.execute(
        statement,
        {"m_tenant": tenant_id, "m_name": name, "m_labels": _labels(labels), "m_value": by},
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
