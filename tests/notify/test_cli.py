"""`kyra notify ...` against a fresh database and a real webhook receiver."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from cryptography.fernet import Fernet
from typer.testing import CliRunner, Result

from kyra.cli import notify as notify_cli
from kyra.cli import secrets as secrets_cli
from kyra.notify import verify_signature
from tests.servers.webhook import WebhookReceiver

Run = Callable[..., Result]
root = typer.Typer()
notify_cli.register(root)
secrets_cli.register(root)


@pytest.fixture
def kyra_cli(tmp_path: Path) -> Run:
    env = {
        "KYRA_DATABASE_URL": f"sqlite:///{tmp_path / 'kyra.db'}",
        "KYRA_HOME": str(tmp_path / ".kyra"),
        "KYRA_SECRET_KEY": Fernet.generate_key().decode(),
        "KYRA_LANG": "en",
    }
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(root, list(args), input=input, env=env, catch_exceptions=False)

    return run


def test_add_list_test_remove(kyra_cli: Run, webhook_receiver: WebhookReceiver) -> None:
    run = kyra_cli
    assert run("secrets", "set", "HOOK_KEY", input="cli-key").exit_code == 0
    added = run(
        "notify",
        "add-channel",
        "webhook",
        "--name",
        "ops",
        "--url",
        f"{webhook_receiver.url}/cli",
        "--signing-secret",
        "HOOK_KEY",
        "--events",
        "needs_attention,verified",
    )
    assert added.exit_code == 0, added.output
    listed = json.loads(run("notify", "list", "--json").stdout)
    assert listed == [
        {
            "name": "ops",
            "kind": "webhook",
            "events": ["needs_attention", "verified"],
            "default_events": False,
            "config": {"url": f"{webhook_receiver.url}/cli", "signing_secret": "HOOK_KEY"},
        }
    ]
    assert "cli-key" not in run("notify", "list").stdout

    tested = run("notify", "test", "ops")
    assert tested.exit_code == 0, tested.output
    (request,) = webhook_receiver.requests
    assert request.json["event"] == "test"
    assert verify_signature("cli-key", request.body, request.headers)

    webhook_receiver.default_reply = type(webhook_receiver.default_reply)(500, "no")
    failed = run("notify", "test", "ops")
    assert failed.exit_code == 1 and "HTTP 500" in failed.output
    webhook_receiver.default_reply = type(webhook_receiver.default_reply)()
    retried = run("notify", "retry")
    assert "1 of 1 failed deliveries sent" in retried.stdout

    assert run("notify", "remove", "ops").exit_code == 0
    assert "No notification channels" in run("notify", "list").stdout


def test_bad_channels_are_refused_with_a_sentence(kyra_cli: Run) -> None:
    run = kyra_cli
    typo = run(
        "notify", "add-channel", "slack", "--name", "s", "--url", "http://x", "--events", "fixed"
    )
    assert typo.exit_code == 2 and "unknown event 'fixed'" in typo.output
    wrong = run("notify", "add-channel", "slack", "--name", "s", "--to", "a@b.c")
    assert wrong.exit_code == 2 and "invalid slack channel" in wrong.output
    assert "No notification channels" in run("notify", "list").stdout
