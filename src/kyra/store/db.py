"""Engine creation, SQLite tuning, schema migrations and the `Store` facade."""

from __future__ import annotations

import contextlib
import os
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from kyra.errors import SchemaOutOfDateError, StoreError
from kyra.store.sqlite_turn import WriterTurns

BUSY_TIMEOUT_SECONDS = 10.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (CLI, dashboard) run while a worker writes; NORMAL sync is durable
    # across process crashes in WAL mode, which is the failure Kyra promises to survive.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.close()


PRIVATE_FILE_MODE = 0o600
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def _private_sqlite_files(database: str) -> None:
    """The database file and its WAL/SHM/journal readable by their owner only: they hold
    every tenant's data (and the API's key hashes). SQLite gives its companion files the
    database file's mode; this also tightens files made by an older Kyra or another tool.
    A file owned by someone else is left alone (chmod would fail; SQLite then reads it)."""
    for suffix in SQLITE_COMPANIONS:
        path = Path(database + suffix)
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(PRIVATE_FILE_MODE)
        except OSError:
            continue


def _create_private(database: str) -> None:
    """Create the SQLite file 0600 before SQLite does (it would use 0644 minus umask)."""
    path = Path(database)
    if path.exists():
        return
    # OSError: made by another process meanwhile, or a missing folder SQLite will report.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))


READ_ONLY = "kyra_read_only"
"""Execution option of `Store.reader`: its transactions only read."""


def _read_only(conn: Any) -> bool:
    return bool(conn.get_execution_options().get(READ_ONLY))


def _begin_immediate(conn: Any) -> None:
    # Take the write lock at BEGIN: two writers then queue on busy_timeout instead of
    # failing with "database is locked" when a reader upgrades to a writer. A reader
    # (`Store.reader`) begins deferred: in WAL mode it reads its snapshot while a writer
    # commits, instead of queueing for a lock it never needs (a third of `kyra serve`'s
    # transactions are reads: API keys, runnable rows, trends, lists).
    begin = "BEGIN" if _read_only(conn) else "BEGIN IMMEDIATE"
    conn.connection.dbapi_connection.execute(begin)  # straight to the driver


def _writer_turns(engine: Engine, database: str) -> None:
    turns = WriterTurns(database, timeout=BUSY_TIMEOUT_SECONDS)

    def take(conn: Any) -> None:
        if not _read_only(conn):
            turns.take(conn.connection.info)

    # Before `BEGIN IMMEDIATE` (insert=True: ahead of that listener), back at check-in.
    event.listen(engine, "begin", take, insert=True)
    event.listen(engine.pool, "connect", lambda _dbapi, record: turns.open(record.info))
    event.listen(engine.pool, "close", lambda _dbapi, record: turns.close(record.info))
    event.listen(engine.pool, "checkin", lambda _dbapi, record: turns.give_back(record.info))


def sqlite_in_memory(url: str | URL) -> bool:
    """An in-memory SQLite database: private to the process that opened it."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def make_engine(url: str | URL, *, write_turns: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        memory = sqlite_in_memory(parsed)
        database = parsed.database or ""
        on_disk = not memory and not database.startswith("file:")
        if on_disk:
            _create_private(database)
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS},
            poolclass=NullPool if memory else None,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if on_disk:  # after the pragmas: WAL mode has made the -wal and -shm files
            event.listen(engine, "connect", lambda _c, _r: _private_sqlite_files(database))

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        event.listen(engine, "begin", _begin_immediate)
        if write_turns and not memory:
            _writer_turns(engine, parsed.database)
        return engine
    return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)


_MIGRATION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def head_revision() -> str:
    """The newest migration, read from the file names (`NNNN_what.py` holds revision
    "NNNN"; a test holds Alembic to it). Importing Alembic costs ~0.3 s of CPU, so a
    command only pays it when the schema is actually behind."""
    versions = files("kyra.store") / "migrations" / "versions"
    numbers = [m.group(1) for p in versions.iterdir() if (m := _MIGRATION_FILE.match(p.name))]
    return max(numbers)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at; None for an empty database."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (`kyra db upgrade`, or on open when
    `KYRA_DB_AUTO_MIGRATE` is on)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(files("kyra.store") / "migrations"))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def ensure_schema(engine: Engine, *, auto_migrate: bool) -> None:
    """Upgrade a schema that is behind (when allowed) or say which command does it; a
    database newer than this Kyra is refused rather than written with old code."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is not None and current > head:
        raise SchemaOutOfDateError(current, head, newer=True)
    if not auto_migrate:
        raise SchemaOutOfDateError(current, head)
    migrate(engine)


class Store:
    """The database handle every layer uses through narrow repository functions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.session = sessionmaker(engine, expire_on_commit=False)
        self.reader = engine.execution_options(**{READ_ONLY: True})
        """The same pool for transactions that only read (`with store.reader.connect()`):
        on SQLite they take no write lock. Never write through it: a deferred
        transaction that tries to write while another holds the lock fails at once."""
        self.read_session = sessionmaker(self.reader, expire_on_commit=False)
        """ORM sessions that only read, on `reader`."""

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str | URL, *, run_migrations: bool = True, write_turns: bool = False) -> Store:
    """Open the database; `run_migrations=False` refuses a schema that is behind instead of
    upgrading it (`KYRA_DB_AUTO_MIGRATE=0`)."""
    try:
        engine = make_engine(url, write_turns=write_turns)
        ensure_schema(engine, auto_migrate=run_migrations)
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"cannot open the database {make_url(url)!r}: {exc}") from exc
    return Store(engine)
