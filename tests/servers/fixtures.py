"""Pytest plugin: real loopback servers as fixtures.

    fault_server      kyra.demo.FaultServer (one per session, reset before each test)
    smtp_server       SmtpTestServer, plain, no AUTH (reset before each test)
    smtp_auth_server  SmtpTestServer requiring AUTH as user "kyra" / "s3cret"
    webhook_receiver  WebhookReceiver answering 200 "ok" (reset before each test)
    closed_port       a loopback port nothing listens on (connection refused)
    http_client       an httpx.Client, closed after the test
    ssl_context       one default SSLContext per session (pass as httpx `verify=`)

Loaded by `pytest_plugins = ["tests.servers.fixtures"]` in tests/conftest.py.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import httpx
import pytest

from kyra.actions.http import http_client as http_client_for_connectors
from kyra.demo import FaultServer
from tests.servers.smtp import SmtpBehaviour, SmtpTestServer
from tests.servers.webhook import WebhookReceiver

SMTP_USER = "kyra"
SMTP_PASSWORD = "s3cret"


@pytest.fixture(scope="session")
def _fault_server_session() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def fault_server(_fault_server_session: FaultServer) -> FaultServer:
    _fault_server_session.reset()
    return _fault_server_session


@pytest.fixture(scope="session")
def _smtp_session() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def smtp_server(_smtp_session: SmtpTestServer) -> SmtpTestServer:
    _smtp_session.reset()
    return _smtp_session


@pytest.fixture
def smtp_auth_server() -> Iterator[SmtpTestServer]:
    behaviour = SmtpBehaviour(credentials={SMTP_USER: SMTP_PASSWORD}, require_auth=True)
    with SmtpTestServer(behaviour) as server:
        yield server


@pytest.fixture(scope="session")
def _webhook_session() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def webhook_receiver(_webhook_session: WebhookReceiver) -> WebhookReceiver:
    _webhook_session.reset()
    return _webhook_session


@pytest.fixture
def closed_port() -> int:
    """A port that was free a moment ago; connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def ssl_context() -> ssl.SSLContext:
    """Built once: each httpx.Client would otherwise load the CA bundle (~35 ms)."""
    return ssl.create_default_context()


@pytest.fixture
def http_client(ssl_context: ssl.SSLContext) -> Iterator[httpx.Client]:
    with http_client_for_connectors(verify=ssl_context) as client:
        yield client
