"""A Kyra app on SQLite with the real clock, a healer, and helpers to build workflows
against the real fault-injecting server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from kyra.app import Kyra, create_app
from kyra.healing.driver import DriveResult, HealingDriver
from kyra.healing.events import HealEvent, HealListener
from kyra.healing.healer import Healer
from kyra.healing.settings import HealingSettings
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.healing import FixInfo
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Workflow


class Recorder(HealListener):
    def __init__(self) -> None:
        self.events: list[HealEvent] = []

    def on_heal_event(self, event: HealEvent) -> None:
        self.events.append(event)

    @property
    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


class Loop:
    """One app + healer; `run(doc)` applies a workflow, runs it and drives healing."""

    def __init__(self, kyra: Kyra, settings: HealingSettings) -> None:
        self.kyra = kyra
        self.recorder = Recorder()
        self.healer = Healer(kyra, settings=settings, listeners=[self.recorder])

    def apply(self, doc: dict[str, Any]) -> WorkflowRecord:
        record, _ = apply_workflow(self.kyra, self.kyra.tenant.id, Workflow.model_validate(doc))
        return record

    def run(self, name: str, inputs: dict[str, Any] | None = None) -> DriveResult:
        record = wf_store.get_workflow(self.kyra.store, self.kyra.tenant.id, name)
        return HealingDriver(self.kyra, self.healer).run(record, inputs)

    def workflow(self, name: str) -> WorkflowRecord:
        return wf_store.get_workflow(self.kyra.store, self.kyra.tenant.id, name)

    def fixes(self, name: str) -> list[FixInfo]:
        record = self.workflow(name)
        return heal_store.list_fixes(self.kyra.store, self.kyra.tenant.id, workflow_id=record.id)

    def audit_kinds(self, name: str) -> list[str]:
        record = self.workflow(name)
        return [
            a.kind
            for a in reversed(
                heal_store.list_audit(self.kyra.store, self.kyra.tenant.id, workflow_id=record.id)
            )
        ]


FAST = HealingSettings(
    unavailable_initial_delay_seconds=0.3,
    unavailable_max_delay_seconds=0.6,
    unavailable_max_retries=2,
)


def make_app(tmp_path: Path, tier: str = "enterprise") -> Kyra:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'kyra.db'}",
        home=tmp_path / ".kyra",
        secret_key=SecretStr(Fernet.generate_key().decode()),
        default_tier=tier,
    )
    return create_app(settings)


@pytest.fixture
def kyra(tmp_path: Path) -> Iterator[Kyra]:
    app = make_app(tmp_path)
    yield app
    app.close()


@pytest.fixture
def loop(kyra: Kyra) -> Loop:
    return Loop(kyra, FAST)


def http(name: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "action": "http_request", "with": {"url": url, **extra}}
