"""A local user who can read the database file must still not be able to sign in: the file
and its WAL/SHM are the owner's only, and the session-signing key is not in it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sqlite3
import time
from pathlib import Path

from fastapi.testclient import TestClient

from kyra.api.auth import SESSION_COOKIE
from kyra.app import Kyra, create_app
from kyra.settings import Settings
from tests.api.conftest import Tenant
from tests.apps import fresh_settings


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_sqlite_file_and_its_wal_and_shm_are_the_owners_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask: SQLite alone would make them 0644
    try:
        kyra = create_app(fresh_settings(tmp_path))
        try:
            assert kyra.tenant.name  # a write: the WAL and SHM exist now
            for name in ("kyra.db", "kyra.db-wal", "kyra.db-shm"):
                assert _mode(tmp_path / name) == 0o600, name
        finally:
            kyra.close()
    finally:
        os.umask(previous)


def test_an_older_world_readable_database_is_tightened_on_open(tmp_path: Path) -> None:
    db = tmp_path / "kyra.db"
    sqlite3.connect(db).close()
    db.chmod(0o644)
    kyra = create_app(
        Settings(database_url=f"sqlite:///{db}", home=tmp_path / ".kyra", secret_key=None)
    )
    kyra.close()
    assert _mode(db) == 0o600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _forge(key: bytes, prefix: str) -> str:
    payload = _b64(json.dumps({"k": prefix, "e": int(time.time()) + 3600}).encode())
    mac = hmac.new(key, f"session:{payload}".encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def test_nothing_in_the_database_signs_a_session(
    kyra: Kyra, http: TestClient, acme: Tenant
) -> None:
    """Every value of every column of every table, tried as the signing key."""
    assert http.post("/login", data={"key": acme.key}, follow_redirects=False).status_code == 303
    http.cookies.clear()
    prefix = acme.get("/api/v1/apikeys").json()[0]["prefix"]
    url = kyra.settings.database_url.removeprefix("sqlite:///")
    candidates: set[bytes] = set()
    with sqlite3.connect(url) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        candidates.add(value)
                    elif isinstance(value, str) and value:
                        candidates.add(value.encode())
    assert candidates
    for key in candidates:
        http.cookies.set(SESSION_COOKIE, _forge(key, prefix))
        r = http.get("/dashboard", follow_redirects=False)
        assert r.status_code == 303, "a session was forged from the database's contents"
