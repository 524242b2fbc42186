"""Every table module, imported once: the full metadata for migrations and tests."""

from kyra.store import (
    api_tables,
    fleet_tables,
    healing_tables,
    incident_tables,
    metrics_tables,
    notify_tables,
    risk_tables,
    rules_tables,
    runtime_tables,
    tables,
    trend_tables,
)
from kyra.store.tables import Base

metadata = Base.metadata

__all__ = [
    "api_tables",
    "fleet_tables",
    "healing_tables",
    "incident_tables",
    "metadata",
    "metrics_tables",
    "notify_tables",
    "risk_tables",
    "rules_tables",
    "runtime_tables",
    "tables",
    "trend_tables",
]
