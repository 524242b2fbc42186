"""Durable state: SQLAlchemy 2 tables, Alembic migrations and narrow repositories.

No SQL outside this package. SQLite (WAL) by default, PostgreSQL in production; one
migration chain serves both.
"""

from kyra.store.db import Store, open_store

__all__ = ["Store", "open_store"]
