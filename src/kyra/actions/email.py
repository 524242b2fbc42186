"""`send_email`: one message over SMTP (smtplib), with smtplib's failures mapped once.

SMTP reply codes become `status_code`; `retryable` is explicit: 4xx replies (greylisting,
"421 try later", "451 local error") and transport problems are worth retrying, 5xx
replies (bad password, unknown mailbox) are not. A partially refused recipient list is
not an error: the message went out, and `refused` in the output says to whom it did not.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kyra.actions.base import StepContext, Text
from kyra.actions.providers import provider_for_host
from kyra.errors import ActionInputError, RemoteStatusError, StepError, TransportError

DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def _reject_newlines(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("header values must not contain line breaks")
    return value


def _address_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    addresses = [addr for _, addr in getaddresses([_reject_newlines(v) for v in items])]
    bad = [a for a in addresses if "@" not in a]
    if bad:
        raise ValueError(f"not an email address: {bad[0]!r}")
    return addresses


class SendEmailParams(BaseModel):
    """Parameters of `send_email`; `from` is accepted as an alias of `from_`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    """Defaults by security: 587 (starttls), 465 (ssl), 25 (none)."""
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: Text | None = None
    password: Text | None = None
    from_: str = Field(alias="from", min_length=3)
    to: str | list[str]
    cc: str | list[str] | None = None
    bcc: str | list[str] | None = None
    subject: Text = ""
    body: Text = ""
    html: Text | None = None
    """An HTML alternative; the message becomes multipart/alternative."""
    reply_to: str | None = None

    @field_validator("from_", "subject", "reply_to")
    @classmethod
    def _single_line(cls, value: str | None) -> str | None:
        return None if value is None else _reject_newlines(value)

    @field_validator("to", "cc", "bcc")
    @classmethod
    def _addresses(cls, value: str | list[str] | None) -> str | list[str] | None:
        _address_list(value)
        return value

    @model_validator(mode="after")
    def _credentials_pair(self) -> SendEmailParams:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both 'username' and 'password', or neither")
        if not _address_list(self.to):
            raise ValueError("'to' needs at least one address")
        return self

    def recipients(self) -> list[str]:
        return _address_list(self.to) + _address_list(self.cc) + _address_list(self.bcc)


def build_message(params: SendEmailParams) -> EmailMessage:
    """The MIME message (Bcc is left out of the headers; it is envelope-only)."""
    message = EmailMessage()
    message["From"] = params.from_
    message["To"] = ", ".join(_address_list(params.to))
    if params.cc:
        message["Cc"] = ", ".join(_address_list(params.cc))
    if params.reply_to:
        message["Reply-To"] = params.reply_to
    message["Subject"] = params.subject
    message["Date"] = formatdate(usegmt=True)
    sender = _address_list(params.from_)[0]
    # An explicit domain: make_msgid() would otherwise ask DNS for our FQDN.
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "kyra.local")
    message.set_content(params.body or "")
    if params.html is not None:
        message.add_alternative(params.html, subtype="html")
    return message


class SendEmail:
    """Sends one email through an SMTP server."""

    name: ClassVar[str] = "send_email"
    Params: ClassVar[type[BaseModel]] = SendEmailParams

    def run(self, params: SendEmailParams, ctx: StepContext) -> dict[str, Any]:
        message = build_message(params)
        port = params.port or DEFAULT_PORTS[params.security]
        provider = ctx.provider or provider_for_host(params.host)
        started = time.monotonic()
        try:
            refused = self.deliver(params, port, message, ctx.config.timeout)
        except (smtplib.SMTPException, OSError) as exc:
            raise map_smtp_exception(
                exc,
                action=self.name,
                provider=provider,
                attempt=ctx.attempt,
                elapsed=time.monotonic() - started,
                where=f"{params.host}:{port}",
            ) from exc
        return {
            "message_id": message["Message-ID"],
            "accepted": [r for r in params.recipients() if r not in refused],
            "refused": {
                addr: {"code": code, "message": _text(reply)}
                for addr, (code, reply) in refused.items()
            },
        }

    @staticmethod
    def deliver(
        params: SendEmailParams, port: int, message: EmailMessage, timeout: float
    ) -> dict[str, tuple[int, bytes]]:
        client: smtplib.SMTP
        if params.security == "ssl":
            client = smtplib.SMTP_SSL(
                params.host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(params.host, port, timeout=timeout)
        try:
            if params.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if params.username is not None and params.password is not None:
                client.login(params.username, params.password)
            refused = client.send_message(
                message,
                from_addr=_address_list(params.from_)[0],
                to_addrs=params.recipients(),
            )
            _quit_quietly(client)
            return refused
        finally:
            client.close()


def _quit_quietly(client: smtplib.SMTP) -> None:
    # The message is already accepted; a server that drops the line on QUIT changes nothing.
    with contextlib.suppress(smtplib.SMTPException, OSError):
        client.quit()


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return text[:2048]


def _retryable(code: int) -> bool:
    return 400 <= code < 500


def map_smtp_exception(
    exc: BaseException,
    *,
    action: str,
    provider: str,
    attempt: int,
    elapsed: float,
    where: str,
) -> StepError:
    """Translate one smtplib/socket exception into the most specific StepError."""
    fields: dict[str, Any] = {
        "action": action,
        "provider": provider,
        "error_type": type(exc).__name__,
        "attempt": attempt,
        "elapsed": elapsed,
    }
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = {addr: (code, _text(reply)) for addr, (code, reply) in exc.recipients.items()}
        first_code, first_text = next(iter(codes.values()), (550, ""))
        return RemoteStatusError(
            f"SMTP server {where} refused every recipient: "
            + "; ".join(f"{a}: {c} {t}" for a, (c, t) in codes.items())[:500],
            status_code=first_code,
            body_excerpt=first_text,
            retryable=all(_retryable(c) for c, _ in codes.values()),
            **fields,
        )
    if isinstance(exc, smtplib.SMTPConnectError):
        return TransportError(
            f"SMTP server {where} refused the session: {exc.smtp_code} {_text(exc.smtp_error)}",
            status_code=exc.smtp_code,
            body_excerpt=_text(exc.smtp_error),
            retryable=exc.smtp_code < 500,
            **fields,
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        what = {
            smtplib.SMTPAuthenticationError: "rejected the login",
            smtplib.SMTPSenderRefused: "refused the sender",
            smtplib.SMTPDataError: "refused the message",
        }.get(type(exc), "answered with an error")
        return RemoteStatusError(
            f"SMTP server {where} {what}: {exc.smtp_code} {_text(exc.smtp_error)}",
            status_code=exc.smtp_code,
            body_excerpt=_text(exc.smtp_error),
            retryable=_retryable(exc.smtp_code),
            **fields,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return ActionInputError(
            f"SMTP server {where} does not support what the step asked for ({exc}); "
            "check 'security' and the credentials",
            **fields,
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        if isinstance(exc.__context__, TimeoutError):
            # smtplib reports a read timeout as a disconnect; the timeout is what happened.
            fields["error_type"] = "TimeoutError"
            return TransportError(
                f"SMTP server {where} did not answer in time", retryable=True, **fields
            )
        return TransportError(
            f"SMTP server {where} closed the connection: {exc}", retryable=True, **fields
        )
    if isinstance(exc, ssl.SSLError):
        # Certificate and protocol mismatches do not heal by themselves.
        return TransportError(
            f"TLS with SMTP server {where} failed: {exc}", retryable=False, **fields
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return TransportError(
            f"SMTP server {where} did not answer in time", retryable=True, **fields
        )
    if isinstance(exc, ConnectionRefusedError):
        return TransportError(
            f"could not connect to SMTP server {where}: connection refused",
            retryable=True,
            **fields,
        )
    return TransportError(f"SMTP with {where} failed: {exc}", retryable=True, **fields)


__all__ = ["SendEmail", "SendEmailParams", "build_message", "map_smtp_exception"]
