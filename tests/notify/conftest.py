"""A Kyra app on a fresh SQLite store with a manual clock (backoff never waits), a
Notifier pointed at loopback receivers, and helpers to add channels and drive healing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kyra.app import Kyra, create_app
from kyra.clock import ManualClock
from kyra.demo import FaultServer
from kyra.healing.driver import DriveResult, HealingDriver
from kyra.healing.factory import make_healer
from kyra.healing.healer import Healer
from kyra.notify import Notifier, NotifySettings
from kyra.notify.routing import parse_config
from kyra.service import apply_workflow
from kyra.store import notify as notify_store
from kyra.store import secrets as secret_store
from kyra.store.notify import ChannelInfo
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Workflow
from tests.apps import fresh_settings
from tests.servers.smtp import SmtpTestServer
from tests.servers.webhook import WebhookReceiver

SIGNING_KEY = "whsec-kyra-test-3f9a"
ROUTING_KEY = "R0UTINGKEY0000000000000000000000"
DASHBOARD = "http://dashboard.kyra.test"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def kyra(tmp_path: Path, clock: ManualClock) -> Iterator[Kyra]:
    settings = fresh_settings(tmp_path, public_url=DASHBOARD)
    app = create_app(settings, clock=clock)
    secret_store.set_secret(app.store, app.box, app.tenant.id, "HOOK_KEY", SIGNING_KEY)
    secret_store.set_secret(app.store, app.box, app.tenant.id, "PD_KEY", ROUTING_KEY)
    yield app
    app.close()


@pytest.fixture
def notify_settings(webhook_receiver: WebhookReceiver) -> NotifySettings:
    return NotifySettings(
        pagerduty_events_url=f"{webhook_receiver.url}/pagerduty/v2/enqueue",
        timeout_seconds=2.0,
    )


@pytest.fixture
def notifier(kyra: Kyra, notify_settings: NotifySettings) -> Notifier:
    return Notifier(kyra, notify_settings)


def add_channel(
    kyra: Kyra, kind: str, name: str | None = None, events: list[str] | None = None, **config: Any
) -> ChannelInfo:
    parse_config(kind, config)  # what the CLI does before storing
    return notify_store.add_channel(
        kyra.store, kyra.tenant.id, name=name or kind, kind=kind, config=config, events=events
    )


def add_email(kyra: Kyra, smtp: SmtpTestServer, **extra: Any) -> ChannelInfo:
    config: dict[str, Any] = {
        "to": ["ops@example.com"],
        "from": "Kyra <kyra@example.com>",
        "host": smtp.host,
        "port": smtp.port,
        "security": "none",
        **extra,
    }
    return add_channel(kyra, "email", **config)


def add_webhook(kyra: Kyra, receiver: WebhookReceiver, **extra: Any) -> ChannelInfo:
    return add_channel(
        kyra, "webhook", url=f"{receiver.url}/hooks/kyra", signing_secret="HOOK_KEY", **extra
    )


def dates_workflow(kyra: Kyra, fault_server: FaultServer, name: str = "invoices") -> WorkflowRecord:
    """Fails with an invalid date format; the healer fixes it by itself (GREEN)."""
    doc = {
        "name": name,
        "config": {"retry": {"max_retries": 0}},
        "steps": [
            {
                "name": "post",
                "action": "http_request",
                "with": {
                    "url": f"{fault_server.url}/dates?format=%Y-%m-%d&field=due",
                    "method": "POST",
                    "json": {"due": "26/11/2026"},
                },
            }
        ],
    }
    record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
    return record


def required_workflow(kyra: Kyra, fault_server: FaultServer) -> WorkflowRecord:
    """Fails on a missing field; the healer proposes a default (YELLOW) and waits."""
    doc = {
        "name": "signup",
        "config": {"retry": {"max_retries": 0}},
        "steps": [
            {
                "name": "post",
                "action": "http_request",
                "with": {
                    "url": f"{fault_server.url}/require?fields=email,name",
                    "method": "POST",
                    "json": {"name": "Ana"},
                },
            }
        ],
    }
    record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
    return record


def heal(kyra: Kyra, record: WorkflowRecord, notifier: Notifier) -> tuple[Healer, DriveResult]:
    healer = make_healer(kyra, [notifier])
    return healer, HealingDriver(kyra, healer).run(record)


def run_rerun(kyra: Kyra, healer: Healer, rerun_id: str | None) -> None:
    """What `kyra fixes approve` does after an approval: run the re-run and verify it."""
    assert rerun_id is not None
    result = HealingDriver(kyra, healer).run_when_due(rerun_id)
    assert result is not None
    healer.after_run(result)
