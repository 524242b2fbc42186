"""Run the real `kyra` command in-process against a fresh SQLite database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kyra.cli import app


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Kyra:
    """`kyra ...` in a temporary project directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {
            "KYRA_DATABASE_URL": f"sqlite:///{root / 'kyra.db'}",
            "KYRA_HOME": str(root / ".kyra"),
            "KYRA_LANG": "en",
            # Spec delays (30 s before re-running a 503) are settings; tests shorten them.
            "KYRA_HEALING_UNAVAILABLE_INITIAL_DELAY_SECONDS": "0.05",
            "KYRA_HEALING_UNAVAILABLE_MAX_DELAY_SECONDS": "0.1",
        }
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, lang: str = "en") -> Result:
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            r = self.runner.invoke(
                app,
                list(args),
                input=input,
                env={**self.env, "KYRA_LANG": lang},
                catch_exceptions=False,
            )
        finally:
            os.chdir(cwd)
        return Result(r.exit_code, r.stdout, r.stderr)

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def kyra(tmp_path: Path) -> Iterator[Kyra]:
    k = Kyra(tmp_path)
    assert k("init").exit_code == 0
    yield k
