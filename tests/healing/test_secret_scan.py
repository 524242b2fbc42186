"""A secret scan after a run against a real echoing upstream: the fault server's `/echo`
sends back every header, the query and the body it received, so Basic auth comes back as
base64 of `user:secret`, and the secrets come back URL-encoded and hex too. Nothing in
any form may reach the database (every table, every column), the logs, the webhook
notifications received on loopback, or the prompt the local OpenAI-protocol server gets.

The scan computes the derived forms itself (not with Kyra's code), so a form Kyra forgot
is a failure here."""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from kyra.app import Kyra, create_app
from kyra.demo import FaultServer
from kyra.healing.driver import HealingDriver
from kyra.healing.healer import Healer
from kyra.notify import Notifier
from kyra.notify.settings import NotifySettings
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store import executions as ex
from kyra.store import secrets as secret_store
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Workflow
from tests.healing.llm_server import FakeLLM
from tests.healing.test_llm import VALID, settings
from tests.notify.conftest import add_channel
from tests.servers.webhook import WebhookReceiver

USER = "alice"
SECRETS = {
    "PASS": "pw-Zq7-hunter2-x",
    "TOKEN": "tok-9fK2/Very+Secret",
    "QTOKEN": "qt-55aa-secret-value",
    "HOOK_KEY": "whk-signing-key-0001",
}


def _b64_all(raw: bytes) -> set[str]:
    std = base64.b64encode(raw).decode()
    url = base64.urlsafe_b64encode(raw).decode()
    return {std, std.rstrip("="), url, url.rstrip("=")}


def forms(secret: str) -> set[str]:
    raw = secret.encode()
    out = {secret, quote(secret, safe=""), quote_plus(secret), raw.hex(), raw.hex().upper()}
    out.add(json.dumps(secret)[1:-1])
    out |= _b64_all(raw) | _b64_all(f"{USER}:{secret}".encode())
    return out


ALL_FORMS = {f: name for name, value in SECRETS.items() for f in forms(value)}


def hits(text: str) -> list[str]:
    return sorted({f"{name}: {form}" for form, name in ALL_FORMS.items() if form in text})


def _database_text(path: Path) -> str:
    parts: list[str] = []
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        parts.append(value.decode("utf-8", "replace"))
                    elif value is not None:
                        parts.append(str(value))
    return "\n".join(parts)


def test_no_form_of_a_secret_reaches_the_database_logs_notifications_or_the_llm(
    tmp_path: Path,
    fault_server: FaultServer,
    webhook_receiver: WebhookReceiver,
    fake_llm: FakeLLM,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "kyra.db"
    kyra = create_app(
        Settings(
            database_url=f"sqlite:///{db}",
            home=tmp_path / ".kyra",
            secret_key=SecretStr(Fernet.generate_key().decode()),
        )
    )
    try:
        for name, value in SECRETS.items():
            secret_store.set_secret(kyra.store, kyra.box, kyra.tenant.id, name, value)
        add_channel(
            kyra, "webhook", url=f"{webhook_receiver.url}/hooks/kyra", signing_secret="HOOK_KEY"
        )
        fake_llm.content = json.dumps(VALID)
        record = _workflow(kyra, fault_server)
        healer = Healer(
            kyra,
            llm=settings(fake_llm),
            listeners=[Notifier(kyra, NotifySettings(timeout_seconds=2.0))],
        )
        drive = HealingDriver(kyra, healer).run(record, wait=False)
        assert drive.results[0].status == "failed"
        # The upstream really echoed them (else the scan proves nothing)
        echoed = fault_server.stats()
        assert echoed["paths"]["/echo"] == 1
        assert fake_llm.requests, "the LLM tier was asked"
        assert webhook_receiver.requests, "notifications were delivered"
    finally:
        kyra.close()

    assert hits(_database_text(db)) == []
    for request in webhook_receiver.requests:
        assert hits(request.body.decode("utf-8", "replace")) == []
    for request in fake_llm.requests:
        assert hits(request.raw.decode("utf-8", "replace")) == []


def _workflow(kyra: Kyra, server: FaultServer) -> WorkflowRecord:
    doc = {
        "name": "echoes",
        "steps": [
            {
                "name": "echo",
                "action": "http_request",
                "with": {
                    "url": f"{server.url}/echo?token={{{{ secrets.QTOKEN }}}}&page=2",
                    "method": "POST",
                    "auth": {"basic": {"username": USER, "password": "{{ secrets.PASS }}"}},
                    "headers": {
                        "X-Encoded": "{{ secrets.TOKEN | urlencode }}",
                        "X-Hex": "{{ secrets.TOKEN.encode('utf-8').hex() }}",
                    },
                    "json": {"note": "{{ secrets.TOKEN }}"},
                },
            },
            {
                "name": "frob",
                "action": "http_request",
                "with": {
                    "url": f"{server.url}/status/418",
                    "query": {"body": "the frobnicator reported state 7"},
                },
            },
        ],
    }
    record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
    return record


def test_a_literal_bearer_and_query_token_never_reach_the_execution_record(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    """`auth: {bearer: "..."}` written in the YAML (not from the vault) and `?token=`: the
    workflow's own definition holds them (the author wrote them there), the execution's
    params, outputs and error context must not, echoed or not."""
    kyra = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'kyra.db'}", home=tmp_path / ".kyra")
    )
    try:
        doc = {
            "name": "literal",
            "steps": [
                {
                    "name": "echo",
                    "action": "http_request",
                    "with": {
                        "url": f"{fault_server.url}/echo?token=lit-query-tok-123&page=2",
                        "auth": {"bearer": "lit-bearer-abc-456"},
                    },
                },
                {
                    "name": "frob",
                    "action": "http_request",
                    "with": {"url": f"{fault_server.url}/status/418?access_token=lit-2nd-tok-789"},
                },
            ],
        }
        record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
        result = kyra.executor().run(record)
        assert result.status == "failed"
        stored = ex.get_execution(kyra.store, result.execution_id)
        text = json.dumps(
            [stored.error_context, [(s.params, s.output, s.error) for s in stored.steps]],
            default=str,
        )
    finally:
        kyra.close()
    assert "lit-bearer-abc-456" in json.dumps(doc)  # the scan below looks for real values
    for secret in ("lit-bearer-abc-456", "lit-query-tok-123", "lit-2nd-tok-789"):
        found = [f for f in forms(secret) if f in text]
        assert found == [], (secret, found)


def test_a_foreign_error_recorded_by_kyra_heal_keeps_no_credential(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    """Code that is not a Kyra workflow (`kyra.heal`) has no vault: what its upstream
    echoes is masked by shape, through the same module. The upstream answers 401 with the
    credentials it got in its body (as `Basic base64(user:password)`, a Bearer token, a
    JSON-escaped `password`, a URL-encoded `access_token`), the request URL carries a
    `?token=`, and a second call fails connecting to a database URL with a password.
    Nothing of it may reach any table of the recording database (before, only URL query
    strings were cut from such errors: the password, the tokens and the base64 were kept)."""
    import httpx

    import kyra as kyra_api

    url = f"sqlite:///{tmp_path / 'kyra.db'}"
    password, token = SECRETS["PASS"], SECRETS["TOKEN"]
    basic = base64.b64encode(f"{USER}:{password}".encode()).decode()
    echoed = json.dumps(
        {
            "error": "invalid credentials",
            "received": f"Authorization: Basic {basic}",
            "also": f"Bearer {token}",
            "password": password,
            "callback": f"https://app.example.com/cb?access_token={quote(token, safe='')}",
        }
    )
    query = {"body": echoed, "token": SECRETS["QTOKEN"]}

    @kyra_api.heal(fallback=0, store=url, name="echoing.upstream")
    def call() -> None:
        httpx.get(f"{fault_server.url}/status/401", params=query, timeout=5).raise_for_status()

    @kyra_api.heal(fallback=0, store=url, name="database.connect")
    def connect() -> None:
        raise ConnectionError(f"cannot reach postgresql://{USER}:{password}@127.0.0.1:1/kyra")

    with pytest.raises(httpx.HTTPStatusError):
        call()
    with pytest.raises(ConnectionError):
        connect()
    assert fault_server.stats()["paths"]["/status/401"] == 1
    stored = _database_text(tmp_path / "kyra.db")
    assert "invalid credentials" in stored and "127.0.0.1:1/kyra" in stored  # recorded
    assert hits(stored) == []
