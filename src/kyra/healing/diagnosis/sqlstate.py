"""SQLSTATE (ISO/IEC 9075, ODBC) as a protocol: its class says what kind of error it is.

A SQL driver's error carries a five-character SQLSTATE whatever the database: PostgreSQL
(`{"code": "57014"}`, psycopg's `pgcode`), SQL Server through ODBC (`('HYT00', '[HYT00]
...')`), Snowflake (`000630 (57014): ...`), DB2, Oracle's ODBC driver. Like an HTTP status,
the first two characters name a class the standard defines (`22` data exception, `23`
integrity constraint violation, `28` invalid authorization, `42` syntax error or access
rule); a few subclasses are as standard and more telling (`22007` invalid datetime
format, `23502` not-null violation, `42501` insufficient privilege). The table
below is that standard, not any provider's data, so a database the knowledge base never
documented is still read. A code is taken as a SQLSTATE only where a SQL driver raised
the error, never from a provider's five-digit number (Discord's 40001 is `Unauthorized`).
"""

from __future__ import annotations

import re

from kyra.healing.taxonomy import ErrorClass

SQL_DRIVERS = re.compile(
    r"^(psycopg2?|asyncpg|pg8000|pyodbc|pymssql|aioodbc|snowflake|oracledb|cx_oracle|ibm_db"
    r"|mysql|pymysql|mysqldb|aiomysql|sqlalchemy|sqlite3|duckdb|trino|clickhouse\w*|databricks)\b"
)
_ODBC = re.compile(r"\[([0-9A-Z]{5})\]")
_PAREN = re.compile(r"\(([0-9A-Z]{5})\):")
_SHAPE = re.compile(r"^[0-9a-z]{5}$")

SUBCLASSES: dict[str, ErrorClass] = {
    "22007": ErrorClass.INVALID_DATE_FORMAT,
    "22008": ErrorClass.INVALID_DATE_FORMAT,
    "23502": ErrorClass.MISSING_REQUIRED_FIELD,
    "40001": ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE,
    "40p01": ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE,
    "42501": ErrorClass.INSUFFICIENT_PERMISSIONS,
    "57014": ErrorClass.TIMEOUT_ERROR,
    "55p03": ErrorClass.TIMEOUT_ERROR,
    "hyt00": ErrorClass.TIMEOUT_ERROR,
    "hyt01": ErrorClass.CONNECTION_TIMEOUT,
    "08006": ErrorClass.CONNECTION_TIMEOUT,
    "53300": ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE,
}
"""Subclasses the standard (or PostgreSQL, whose codes other databases reuse) defines as
transient are the only GREEN entries: a whole class never is (`08004`, "the server
rejected the connection", is a login failure; Snowflake sends `57P03` for a suspended
warehouse)."""
CLASSES: dict[str, ErrorClass] = {
    "22": ErrorClass.DATA_VALIDATION_ERROR,
    "23": ErrorClass.DATA_VALIDATION_ERROR,
    "28": ErrorClass.INVALID_CREDENTIALS,
    "3d": ErrorClass.INVALID_PARAMETER_FORMAT,
    "42": ErrorClass.INVALID_PARAMETER_FORMAT,
}

SPANNING = frozenset({"42000"})
"""Class-level codes whose standard name spans a YELLOW and a RED meaning: `42000` is
"syntax error *or access rule violation*" (SQL Server sends it for a failed login to a
database and for a spent size quota as well as for bad syntax): it decides nothing, the
message does."""


def from_driver(error_type: str | None) -> bool:
    """The error was raised by a SQL driver (its exception's module says so)."""
    return bool(error_type) and bool(SQL_DRIVERS.match(error_type.strip().lower()))


def driver_sqlstates(error_type: str | None, message: str, codes: set[str]) -> set[str]:
    """`sqlstate:<code>` names for the five-character codes a SQL driver's error carries."""
    if not from_driver(error_type):
        return set()
    found = {m.lower() for m in _ODBC.findall(message[:200]) + _PAREN.findall(message[:200])}
    found |= {c for c in codes if _SHAPE.match(c) and any(ch.isdigit() for ch in c[:2])}
    found |= {c for c in codes if c.startswith("hy") and _SHAPE.match(c)}
    return {f"sqlstate:{code}" for code in found if code[:2] != "00"}


def standard_class(code: str) -> ErrorClass | None:
    """The class the SQLSTATE standard gives `sqlstate:<code>`, if it defines one."""
    if not code.startswith("sqlstate:"):
        return None
    state = code.split(":", 1)[1]
    if state in SPANNING:
        return None
    return SUBCLASSES.get(state) or CLASSES.get(state[:2])
