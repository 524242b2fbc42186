"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, parsed.

Modes a test can switch at any time (they apply to the next SMTP command):
`reject_recipients` (address -> reply, e.g. "550 5.1.1 No such user"), `mail_reply`
and `data_reply` (e.g. "421 4.3.2 Service not available", "451 4.3.0 Try later"), and
optional AUTH with fixed credentials. AUTH is offered without TLS (test-only); a bad
password gets aiosmtpd's "535 5.7.8 Authentication credentials invalid".
"""

from __future__ import annotations

import email
import email.policy
import logging
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

# aiosmtpd logs a deprecation of its own `login_data` on every successful AUTH.
logging.getLogger("mail.log").setLevel(logging.ERROR)


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message: the envelope plus the parsed MIME message."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    authenticated_as: str | None


@dataclass
class SmtpBehaviour:
    """What the server answers; mutate between (or during) tests."""

    credentials: dict[str, str] | None = None
    """login -> password; None disables AUTH entirely."""
    require_auth: bool = False
    """MAIL FROM is refused with 530 until the client has authenticated."""
    reject_recipients: dict[str, str] = field(default_factory=dict)
    """address -> SMTP reply, e.g. {"nobody@example.com": "550 5.1.1 No such user"}."""
    reject_all_recipients: str | None = None
    mail_reply: str | None = None
    data_reply: str | None = None


class _Handler:
    def __init__(self, server: SmtpTestServer) -> None:
        self._server = server

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        behaviour = self._server.behaviour
        if behaviour.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if behaviour.mail_reply:
            return behaviour.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        behaviour = self._server.behaviour
        reply = behaviour.reject_all_recipients or behaviour.reject_recipients.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        behaviour = self._server.behaviour
        if behaviour.data_reply:
            return behaviour.data_reply
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        login = (
            session.auth_data.login.decode()
            if isinstance(session.auth_data, LoginPassword)
            else None
        )
        self._server.record(
            ReceivedMail(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                raw=raw,
                message=parsed,
                authenticated_as=login,
            )
        )
        return "250 Message accepted for delivery"


class _EphemeralController(Controller):
    """aiosmtpd's Controller, bound to port 0; learns its real port before the self-test."""

    def _trigger_server(self) -> None:
        server: Any = self.server  # an asyncio.Server once _run() has bound it
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class SmtpTestServer:
    """Start with `start()` (or `with`); `host`, `port`, `messages`, `behaviour`."""

    def __init__(self, behaviour: SmtpBehaviour | None = None) -> None:
        self.behaviour = behaviour or SmtpBehaviour()
        self.host = "127.0.0.1"
        self._messages: list[ReceivedMail] = []
        self._lock = threading.Lock()
        self._controller = _EphemeralController(
            _Handler(self),
            hostname=self.host,
            port=0,
            authenticator=self._authenticate,
            auth_require_tls=False,
            server_hostname="kyra-test-smtp",
        )

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        credentials = self.behaviour.credentials
        if credentials is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        if credentials.get(login) != password:
            return AuthResult(success=False, handled=False)  # aiosmtpd answers 535
        return AuthResult(success=True, auth_data=auth_data)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    def record(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._messages.append(mail)

    def reset(self) -> None:
        """Forget received mail and return to the plain behaviour."""
        with self._lock:
            self._messages.clear()
        self.behaviour = SmtpBehaviour()

    def start(self) -> SmtpTestServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
