"""`send_email` against a real aiosmtpd server: delivery, MIME, AUTH and SMTP refusals."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from kyra.actions.email import SendEmail, SendEmailParams
from kyra.errors import ActionInputError, RemoteStatusError, StepError, TransportError
from tests.actions.conftest import MakeCtx
from tests.servers.fixtures import SMTP_PASSWORD, SMTP_USER
from tests.servers.smtp import SmtpTestServer

ACTION = SendEmail()


def params(server_port: int, **extra: Any) -> SendEmailParams:
    base: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server_port,
        "security": "none",
        "from": "Kyra <kyra@example.com>",
        "to": "ana@example.com",
        "subject": "Daily report",
        "body": "All good.",
    }
    return SendEmailParams.model_validate({**base, **extra})


def fail(ctx: Any, p: SendEmailParams) -> StepError:
    with pytest.raises(StepError) as info:
        ACTION.run(p, ctx)
    return info.value


def test_plain_message_arrives_with_envelope_and_headers(
    smtp_server: SmtpTestServer, make_ctx: MakeCtx
) -> None:
    p = params(
        smtp_server.port,
        cc=["bo@example.com"],
        bcc="hidden@example.com",
        reply_to="help@example.com",
    )
    out = ACTION.run(p, make_ctx())
    assert out["accepted"] == ["ana@example.com", "bo@example.com", "hidden@example.com"]
    assert out["refused"] == {}
    [mail] = smtp_server.messages
    assert mail.mail_from == "kyra@example.com"
    assert mail.rcpt_tos == ["ana@example.com", "bo@example.com", "hidden@example.com"]
    message = mail.message
    assert message["Subject"] == "Daily report"
    assert message["Cc"] == "bo@example.com"
    assert message["Reply-To"] == "help@example.com"
    assert message["Bcc"] is None
    assert b"hidden@example.com" not in mail.raw
    assert message["Message-ID"] == out["message_id"]
    assert out["message_id"].endswith("@example.com>")
    assert message.get_content_type() == "text/plain"
    assert message.get_content().strip() == "All good."


def test_html_makes_a_multipart_alternative(smtp_server: SmtpTestServer, make_ctx: MakeCtx) -> None:
    ACTION.run(params(smtp_server.port, html="<p>All <b>good</b>.</p>"), make_ctx())
    message = smtp_server.messages[0].message
    assert message.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert parts["text/plain"].strip() == "All good."
    assert parts["text/html"].strip() == "<p>All <b>good</b>.</p>"


def test_login_with_the_right_password(smtp_auth_server: SmtpTestServer, make_ctx: MakeCtx) -> None:
    p = params(smtp_auth_server.port, username=SMTP_USER, password=SMTP_PASSWORD)
    ACTION.run(p, make_ctx())
    assert smtp_auth_server.messages[0].authenticated_as == SMTP_USER


def test_wrong_password_is_535_and_not_retryable(
    smtp_auth_server: SmtpTestServer, make_ctx: MakeCtx
) -> None:
    error = fail(
        make_ctx(attempt=2), params(smtp_auth_server.port, username=SMTP_USER, password="wrong")
    )
    assert isinstance(error, RemoteStatusError)
    assert error.status_code == 535
    assert error.error_type == "SMTPAuthenticationError"
    assert error.retryable is False
    assert error.action == "send_email"
    assert error.provider == "127.0.0.1"
    assert error.attempt == 2
    assert "Authentication credentials invalid" in (error.body_excerpt or "")
    assert "wrong" not in error.message
    assert smtp_auth_server.messages == []


def test_sending_without_login_where_required_is_refused(
    smtp_auth_server: SmtpTestServer, make_ctx: MakeCtx
) -> None:
    error = fail(make_ctx(), params(smtp_auth_server.port))
    assert (error.status_code, error.error_type, error.retryable) == (
        530,
        "SMTPSenderRefused",
        False,
    )


def test_recipient_refused_with_550(smtp_server: SmtpTestServer, make_ctx: MakeCtx) -> None:
    smtp_server.behaviour.reject_all_recipients = "550 5.1.1 No such user"
    error = fail(make_ctx(), params(smtp_server.port))
    assert isinstance(error, RemoteStatusError)
    assert (error.status_code, error.error_type, error.retryable) == (
        550,
        "SMTPRecipientsRefused",
        False,
    )
    assert "ana@example.com" in error.message
    assert error.body_excerpt == "5.1.1 No such user"


def test_one_refused_recipient_is_reported_not_raised(
    smtp_server: SmtpTestServer, make_ctx: MakeCtx
) -> None:
    smtp_server.behaviour.reject_recipients = {"gone@example.com": "550 5.1.1 No such user"}
    out = ACTION.run(
        params(smtp_server.port, to=["ana@example.com", "gone@example.com"]), make_ctx()
    )
    assert out["accepted"] == ["ana@example.com"]
    assert out["refused"] == {"gone@example.com": {"code": 550, "message": "5.1.1 No such user"}}
    assert smtp_server.messages[0].rcpt_tos == ["ana@example.com"]


@pytest.mark.parametrize(
    ("mode", "reply", "error_type"),
    [
        ("data_reply", "451 4.3.0 Try again later", "SMTPDataError"),
        ("mail_reply", "421 4.3.2 Service not available", "SMTPSenderRefused"),
        ("data_reply", "554 5.6.0 Message rejected", "SMTPDataError"),
    ],
)
def test_temporary_replies_are_retryable_permanent_ones_not(
    smtp_server: SmtpTestServer, make_ctx: MakeCtx, mode: str, reply: str, error_type: str
) -> None:
    setattr(smtp_server.behaviour, mode, reply)
    error = fail(make_ctx(), params(smtp_server.port))
    code = int(reply[:3])
    assert (error.status_code, error.error_type) == (code, error_type)
    assert error.retryable is (code < 500)


def test_connection_refused_is_a_retryable_transport_error(
    make_ctx: MakeCtx, closed_port: int
) -> None:
    error = fail(make_ctx(), params(closed_port))
    assert isinstance(error, TransportError)
    assert error.error_type == "ConnectionRefusedError"
    assert error.retryable is True
    assert error.status_code is None


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A server that accepts TCP connections (via the backlog) but never greets."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        yield int(listener.getsockname()[1])


def test_a_server_that_never_answers_times_out(make_ctx: MakeCtx, silent_listener: int) -> None:
    error = fail(make_ctx(timeout=0.2), params(silent_listener))
    assert isinstance(error, TransportError)
    assert error.error_type == "TimeoutError"
    assert error.retryable is True
    assert 0.15 <= error.elapsed < 2


def test_from_alias_and_python_name_both_work() -> None:
    by_alias = SendEmailParams.model_validate({"host": "h", "from": "a@x.io", "to": "b@x.io"})
    by_name = SendEmailParams.model_validate({"host": "h", "from_": "a@x.io", "to": "b@x.io"})
    assert by_alias.from_ == by_name.from_ == "a@x.io"


@pytest.mark.parametrize(
    "extra",
    [
        {"subject": "hi\r\nBcc: victim@example.com"},
        {"to": "not-an-address"},
        {"to": []},
        {"username": "u"},
        {"security": "tls"},
        {"port": 0},
    ],
)
def test_invalid_params_are_rejected(extra: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        params(25, **extra)


def test_starttls_against_a_server_without_it_is_an_input_error(
    smtp_server: SmtpTestServer, make_ctx: MakeCtx
) -> None:
    error = fail(make_ctx(), params(smtp_server.port, security="starttls"))
    assert isinstance(error, ActionInputError)
    assert error.error_type == "SMTPNotSupportedError"
    assert "security" in error.message
    assert smtp_server.messages == []
