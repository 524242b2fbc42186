"""`ErrorContext.from_exception` on real errors of each library, raised by real loopback servers."""

from __future__ import annotations

import asyncio
import smtplib
import sqlite3
import urllib.error
import urllib.request

import aiohttp
import botocore.config
import botocore.exceptions
import botocore.session
import httpx
import psycopg
import pytest
import requests
import sqlalchemy
import urllib3
from tenacity import RetryError, Retrying, stop_after_attempt

import kyra
from kyra.demo import FaultServer
from kyra.engine.error_context import ErrorContext
from kyra.errors import RemoteStatusError
from kyra.healing.taxonomy import ErrorClass, Safety
from tests.plugins.db import PG_ADMIN_URL
from tests.servers.smtp import SmtpTestServer

RATE_LIMITED = "/flaky/{key}?fail=1&status=429&retry_after=7"


def _caught(action: object) -> BaseException:
    try:
        action()  # type: ignore[operator]
    except BaseException as exc:
        return exc
    raise AssertionError("no exception was raised")


def test_httpx_status_error_gives_status_headers_body_and_retry_after(
    fault_server: FaultServer,
) -> None:
    def call() -> None:
        response = httpx.get(
            fault_server.url + RATE_LIMITED.format(key="hx") + "&token=s3cr3t",
            headers={"Authorization": "Bearer abc"},
        )
        response.raise_for_status()

    ctx = ErrorContext.from_exception(_caught(call), provider="acme", step="sync")
    assert (ctx.status_code, ctx.retry_after, ctx.provider) == (429, 7.0, "acme")
    assert ctx.step_name == "sync" and ctx.error_type == "HTTPStatusError"
    assert ctx.header("retry-after") == "7" and "flaky_failure" in (ctx.body or "")
    assert "s3cr3t" not in ctx.error_message
    result = kyra.diagnose(ctx)
    assert result.error_class is ErrorClass.RATE_LIMIT_EXCEEDED
    assert result.facts.retry_after_seconds == 7.0


def test_httpx_transport_errors_keep_their_class(closed_port: int) -> None:
    exc = _caught(lambda: httpx.get(f"http://127.0.0.1:{closed_port}/", timeout=2))
    ctx = ErrorContext.from_exception(exc)
    assert ctx.status_code is None and ctx.error_type == "ConnectError"
    assert kyra.diagnose(ctx).error_class is ErrorClass.CONNECTION_TIMEOUT


def test_requests_http_error_and_connection_error(
    fault_server: FaultServer, closed_port: int
) -> None:
    def call() -> None:
        requests.get(fault_server.url + "/auth", timeout=5).raise_for_status()

    ctx = ErrorContext.from_exception(_caught(call))
    assert ctx.status_code == 401 and "invalid_api_key" in (ctx.body or "")
    assert ctx.header("WWW-Authenticate") is not None
    assert kyra.diagnose(ctx).safety is Safety.RED
    refused = _caught(lambda: requests.get(f"http://127.0.0.1:{closed_port}/", timeout=2))
    assert ErrorContext.from_exception(refused).error_type == "ConnectionError"


def test_aiohttp_client_response_error(fault_server: FaultServer) -> None:
    async def call() -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.get(fault_server.url + RATE_LIMITED.format(key="aio")) as response,
        ):
            response.raise_for_status()

    ctx = ErrorContext.from_exception(_caught(lambda: asyncio.run(call())))
    assert (ctx.status_code, ctx.retry_after, ctx.error_type) == (429, 7.0, "ClientResponseError")
    assert kyra.diagnose(ctx).error_class is ErrorClass.RATE_LIMIT_EXCEEDED


def test_urllib3_max_retry_error_gives_the_underlying_failure(closed_port: int) -> None:
    pool = urllib3.PoolManager(retries=urllib3.Retry(total=0))
    exc = _caught(lambda: pool.request("GET", f"http://127.0.0.1:{closed_port}/?key=k"))
    ctx = ErrorContext.from_exception(exc)
    assert ctx.error_type == "NewConnectionError"
    assert kyra.diagnose(ctx).error_class is ErrorClass.CONNECTION_TIMEOUT


def test_urllib_http_error_reads_code_headers_and_body(fault_server: FaultServer) -> None:
    exc = _caught(lambda: urllib.request.urlopen(fault_server.url + "/status/503", timeout=5))
    assert isinstance(exc, urllib.error.HTTPError)
    ctx = ErrorContext.from_exception(exc)
    assert ctx.status_code == 503 and "503" in (ctx.body or "")
    assert kyra.diagnose(ctx).error_class is ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE


def test_botocore_client_error(fault_server: FaultServer) -> None:
    client = botocore.session.get_session().create_client(
        "s3",
        region_name="us-east-1",
        endpoint_url=fault_server.url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret-example",
        config=botocore.config.Config(
            retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}
        ),
    )
    exc = _caught(lambda: client.get_object(Bucket="status", Key="503"))
    assert isinstance(exc, botocore.exceptions.ClientError)
    ctx = ErrorContext.from_exception(exc)
    assert (ctx.status_code, ctx.provider) == (503, "aws")
    assert kyra.diagnose(ctx).safety is Safety.GREEN


def test_smtplib_authentication_error(smtp_auth_server: SmtpTestServer) -> None:
    def login() -> None:
        with smtplib.SMTP(smtp_auth_server.host, smtp_auth_server.port, timeout=5) as client:
            client.login("kyra", "wrong")

    ctx = ErrorContext.from_exception(_caught(login))
    assert ctx.status_code == 535 and ctx.error_type == "SMTPAuthenticationError"
    result = kyra.diagnose(ctx)
    assert (result.error_class, result.safety) == (ErrorClass.INVALID_CREDENTIALS, Safety.RED)


def test_dbapi_errors_sqlite_psycopg_and_sqlalchemy() -> None:
    lite = _caught(lambda: sqlite3.connect(":memory:").execute("SELECT * FROM missing"))
    ctx = ErrorContext.from_exception(lite)
    assert (ctx.error_type, ctx.provider) == ("OperationalError", "sqlite3")
    with psycopg.connect(PG_ADMIN_URL, connect_timeout=5) as conn:
        pg = _caught(lambda: conn.execute("SELECT 1/0"))
    ctx = ErrorContext.from_exception(pg)
    assert ctx.provider == "psycopg" and ctx.body == '{"code": "22012"}'
    engine = sqlalchemy.create_engine("sqlite://")
    with engine.connect() as conn:
        wrapped = _caught(lambda: conn.execute(sqlalchemy.text("SELECT * FROM missing")))
    ctx = ErrorContext.from_exception(wrapped)
    assert (ctx.error_type, ctx.provider) == ("OperationalError", "sqlite3")
    assert "missing" in ctx.error_message


def test_step_errors_tenacity_retry_errors_and_home_grown_errors() -> None:
    step = RemoteStatusError("boom", action="http_request", status_code=503, retry_after=2.0)
    ctx = ErrorContext.from_exception(step)
    assert (ctx.status_code, ctx.retry_after, ctx.step_action) == (503, 2.0, "http_request")

    def fail() -> None:
        raise step

    retry_error = _caught(lambda: Retrying(stop=stop_after_attempt(1))(fail))
    assert isinstance(retry_error, RetryError)
    assert ErrorContext.from_exception(retry_error).status_code == 503

    class ApiError(Exception):
        def __init__(self, status: int, retry_after: float) -> None:
            super().__init__(f"api said {status}")
            self.status, self.retry_after = status, retry_after

    home = ErrorContext.from_exception(ApiError(429, 3.0))
    assert (home.status_code, home.retry_after, home.error_type) == (429, 3.0, "ApiError")

    def wrap() -> None:
        try:
            raise step
        except RemoteStatusError as exc:
            raise RuntimeError("sync failed") from exc

    wrapped = ErrorContext.from_exception(_caught(wrap))
    assert (wrapped.status_code, wrapped.error_type) == (503, "RemoteStatusError")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TimeoutError("timed out"), ErrorClass.TIMEOUT_ERROR),
        (ConnectionRefusedError(111, "Connection refused"), ErrorClass.CONNECTION_TIMEOUT),
    ],
)
def test_builtin_network_errors(exc: BaseException, expected: ErrorClass) -> None:
    assert kyra.diagnose(ErrorContext.from_exception(exc)).error_class is expected
