from __future__ import annotations

from collections.abc import Iterator

import pytest

from kyra.healing.diagnosis import Diagnoser
from tests.healing.llm_server import FakeLLM, serve


@pytest.fixture(scope="session")
def diagnoser() -> Diagnoser:
    """One trained diagnoser for the whole session (training takes about a second)."""
    return Diagnoser()


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    with serve() as state:
        yield state
