"""An app object on a fresh SQLite store with a manual clock (retries do not sleep)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kyra.app import Kyra, create_app
from kyra.clock import ManualClock
from tests.apps import fresh_settings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def kyra(tmp_path: Path, clock: ManualClock) -> Iterator[Kyra]:
    settings = fresh_settings(tmp_path)
    app = create_app(settings, clock=clock)
    yield app
    app.close()
