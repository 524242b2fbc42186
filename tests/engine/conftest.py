"""An app object on a fresh SQLite store with a manual clock (retries do not sleep)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from kyra.app import Kyra, create_app
from kyra.clock import ManualClock
from kyra.settings import Settings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def kyra(tmp_path: Path, clock: ManualClock) -> Iterator[Kyra]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'kyra.db'}",
        home=tmp_path / ".kyra",
        secret_key=SecretStr(Fernet.generate_key().decode()),
    )
    app = create_app(settings, clock=clock)
    yield app
    app.close()
