"""Helpers for the custom-rules tests: documents from YAML text, errors diagnosed by the
real diagnoser, a one-step workflow for `plan_remedy`, and `kyra rules` in-process."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from kyra.cli import rules as rules_cli
from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis.engine import default_diagnoser
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.rules import RuleSet
from kyra.healing.rules_loader import load_rules_text
from kyra.healing.settings import HealingSettings
from kyra.store.types import utcnow
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Workflow


def rules_of(yaml_text: str, settings: HealingSettings | None = None) -> RuleSet:
    """A RuleSet from YAML written inline (dedented)."""
    document = load_rules_text(textwrap.dedent(yaml_text), "rules.yaml", settings)
    return RuleSet(tuple(document.rules), 1)


def error(**fields: Any) -> ErrorContext:
    fields.setdefault("step_name", "call")
    fields.setdefault("step_action", "http_request")
    return ErrorContext(**fields)


def diagnose(ctx: ErrorContext) -> Diagnosis:
    return default_diagnoser().diagnose(ctx)


def record(config: dict[str, Any] | None = None, step: str = "call") -> WorkflowRecord:
    """A stored-looking one-step workflow, for calling `plan_remedy` directly."""
    workflow = Workflow.model_validate(
        {
            "name": "orders",
            "config": config or {},
            "steps": [{"name": step, "action": "http_request", "with": {"url": "http://x"}}],
        }
    )
    now = utcnow()
    return WorkflowRecord("wf-1", "t-1", "orders", workflow, "fixing", "", 1, now, now)


def no_history(_step: str) -> list[dict[str, Any]]:
    return []


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Cli:
    """`kyra rules ...` in a temporary project, on a root app holding only this group
    (so the tests do not depend on the group being registered in `kyra.cli`)."""

    def __init__(self, root: Path, tier: str = "enterprise") -> None:
        self.root = root
        self.app = typer.Typer()
        self.app.command("noop")(lambda: None)  # a group needs two entries to keep names
        rules_cli.register(self.app)
        self.env = {
            "KYRA_DATABASE_URL": f"sqlite:///{root / 'kyra.db'}",
            "KYRA_HOME": str(root / ".kyra"),
            "KYRA_DEFAULT_TIER": tier,
        }

    def __call__(self, *args: str, input: str | None = None, lang: str = "en") -> Result:
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            r = CliRunner().invoke(
                self.app,
                ["rules", *args],
                input=input,
                env={**self.env, "KYRA_LANG": lang},
                catch_exceptions=False,
            )
        finally:
            os.chdir(cwd)
        return Result(r.exit_code, r.stdout, r.stderr)

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture
def make_cli(tmp_path: Path) -> Callable[[str], Cli]:
    return lambda tier: Cli(tmp_path, tier)
