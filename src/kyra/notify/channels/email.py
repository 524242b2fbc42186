"""Email over SMTP: a text and an HTML part, threaded per incident.

The message itself and the SMTP session are the `send_email` action's (`build_message`,
`SendEmail.deliver`, `map_smtp_exception`), so notifications and workflow steps speak
SMTP the same way. Threading: the first message of an incident on a channel gets the
incident's root Message-ID `<incident.<id>@<sender domain>>`; later ones answer it
(`In-Reply-To` the previous message, `References` the root) under `Re: <first subject>`,
which is what Gmail, Outlook and Thunderbird group on.
"""

from __future__ import annotations

import smtplib
from typing import ClassVar

from jinja2 import Environment

from kyra.actions.email import (
    DEFAULT_PORTS,
    SendEmail,
    SendEmailParams,
    build_message,
    map_smtp_exception,
)
from kyra.notify.channels.base import ChannelError, Outgoing, Sent
from kyra.notify.messages import Notification
from kyra.notify.routing import EmailConfig, resolve_secret

COLOURS = {
    "failing": "#d93025",
    "fixing": "#f9ab00",
    "fixed": "#188038",
    "attention": "#e8710a",
    "info": "#5f6368",
}

_HTML = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(
    """<!doctype html>
<html lang="{{ n.lang }}"><body style="font-family:Arial,Helvetica,sans-serif;color:#202124">
<h2 style="color:{{ colour }};margin:0 0 8px">{{ n.icon }} {{ n.title }}</h2>
<p>{{ n.text }}</p>
{% if n.step or n.error %}
<h3>{{ n.label('what_broke') }}</h3>
<p>{% if n.step %}{{ n.label('step') }}: <code>{{ n.step }}</code><br>{% endif %}
{% if n.error %}{{ n.label('error') }}: {{ n.error }}{% endif %}</p>
{% endif %}
{% if n.diagnosis %}
<h3>{{ n.label('diagnosis') }}</h3>
<p>{{ n.diagnosis }}</p>
{% endif %}
{% if n.changes %}
<h3>{{ n.changes_label }}{% if n.versions %} ({{ n.versions }}){% endif %}</h3>
<table style="border-collapse:collapse" cellpadding="4">
{% for c in n.changes %}
<tr><td><code>{{ c.path }}</code></td>
<td style="color:#d93025"><del>{{ c.before }}</del></td><td>→</td>
<td style="color:#188038"><code>{{ c.after }}</code></td></tr>
{% endfor %}
</table>
{% endif %}
{% for label, text in n.lesson %}
<h3>{{ label }}</h3>
<p>{{ text }}</p>
{% endfor %}
{% if n.undo_command %}
<h3>{{ n.label('undo') }}</h3>
<p><code>{{ n.undo_command }}</code></p>
{% endif %}
<p><a href="{{ n.dashboard_url }}">{{ n.label('dashboard') }}</a></p>
<hr><p style="color:#5f6368;font-size:12px">{{ n.label('incident') }} {{ n.incident }}.
{{ n.label('footer') }}</p>
</body></html>
"""
)


def render_html(note: Notification) -> str:
    return _HTML.render(n=note, colour=COLOURS.get(note.status, COLOURS["info"]))


class EmailChannel:
    """Sends each stage as one email of the incident's thread."""

    kind: ClassVar[str] = "email"

    def __init__(self, config: EmailConfig) -> None:
        self.config = config

    def send(self, out: Outgoing) -> Sent:
        cfg = self.config
        password = resolve_secret(cfg.password_secret, out.secrets) if cfg.password_secret else None
        subject, message_id, in_reply_to, root = self._thread(out)
        params = SendEmailParams.model_validate(
            {
                "host": cfg.host,
                "port": cfg.port,
                "security": cfg.security,
                "username": cfg.username,
                "password": password,
                "from": cfg.from_,
                "to": cfg.to,
                "subject": subject if message_id == root else f"Re: {subject}",
                "body": out.note.plain_text(),
                "html": render_html(out.note),
            }
        )
        message = build_message(params)
        del message["Message-ID"]
        message["Message-ID"] = message_id
        if in_reply_to:
            message["In-Reply-To"] = in_reply_to
            message["References"] = root if in_reply_to == root else f"{root} {in_reply_to}"
        message["X-Kyra-Incident"] = out.note.incident
        message["X-Kyra-Event"] = out.note.kind
        port = cfg.port or DEFAULT_PORTS[cfg.security]
        try:
            SendEmail.deliver(params, port, message, out.settings.timeout_seconds)
        except (smtplib.SMTPException, OSError) as exc:
            error = map_smtp_exception(
                exc,
                action="notify",
                provider="smtp",
                attempt=1,
                elapsed=0.0,
                where=f"{cfg.host}:{port}",
            )
            raise ChannelError(
                error.message, retryable=error.retryable, status_code=error.status_code
            ) from exc
        return Sent(message_id=message_id, subject=subject)

    def _thread(self, out: Outgoing) -> tuple[str, str, str | None, str]:
        """(thread subject, this Message-ID, In-Reply-To, root Message-ID)."""
        domain = self.config.from_.rpartition("@")[2].strip(" >") or "kyra.local"
        root = f"<incident.{out.note.incident}@{domain}>"
        earlier = [d for d in out.earlier if d.id < out.delivery_id]
        if not earlier:
            return out.note.subject, root, None, root
        subject = next((d.subject for d in earlier if d.subject), out.note.subject)
        previous = next((d.message_id for d in reversed(earlier) if d.message_id), root)
        own = f"<incident.{out.note.incident}.{out.delivery_id}@{domain}>"
        return subject, own, previous, root
