"""The one way tests build settings for a fresh Kyra app: a database (a SQLite file in
the test's directory unless given), a home beside it, and a secret key of its own, so
no test reads another's secrets or the developer's `.kyra`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from pydantic import SecretStr

from kyra.settings import Settings


def fresh_settings(root: Path, database_url: str | None = None, **values: Any) -> Settings:
    """Settings for an app under `root`; `values` set any other field."""
    return Settings(
        database_url=database_url or f"sqlite:///{root / 'kyra.db'}",
        home=root / ".kyra",
        secret_key=SecretStr(Fernet.generate_key().decode()),
        **values,
    )
