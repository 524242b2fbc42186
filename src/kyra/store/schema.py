"""Every table module, imported once: the full metadata for migrations and tests."""

from kyra.store import healing_tables, runtime_tables, tables
from kyra.store.tables import Base

metadata = Base.metadata

__all__ = ["healing_tables", "metadata", "runtime_tables", "tables"]
