"""`kyra notify add-channel|list|remove|test|retry`: where Kyra tells people about healing.

Secrets (SMTP passwords, webhook signing keys, PagerDuty routing keys, Slack/Teams URLs)
are never given here: store them with `kyra secrets set NAME` and pass the NAME.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from kyra.cli.common import EXIT_WORKFLOW_FAILED, console, fail, kyra_app, lang, print_json
from kyra.i18n import Catalog, translate
from kyra.notify import parse_config, parse_events
from kyra.notify.notifier import DeliveryResult
from kyra.notify.routing import events_for
from kyra.store import notify as notify_store

app = typer.Typer(help="Notification channels. / Canales de notificación.", no_args_is_help=True)

TEXT: Catalog = {
    "added": {"en": "Channel '{name}' ({kind}) added.", "es": "Canal '{name}' ({kind}) añadido."},
    "removed": {"en": "Channel '{name}' removed.", "es": "Canal '{name}' eliminado."},
    "none": {
        "en": "No notification channels. Add one with: kyra notify add-channel KIND --name NAME",
        "es": "No hay canales de notificación. Añade uno con: "
        "kyra notify add-channel TIPO --name NOMBRE",
    },
    "sent": {
        "en": "Test message sent to '{name}'.",
        "es": "Mensaje de prueba enviado a '{name}'.",
    },
    "failed": {
        "en": "Test message to '{name}' failed after {attempts} attempt(s): {error}",
        "es": "El mensaje de prueba a '{name}' falló tras {attempts} intento(s): {error}",
    },
    "retried": {
        "en": "{sent} of {total} failed deliveries sent.",
        "es": "{sent} de {total} entregas fallidas enviadas.",
    },
}


def _t(key: str, **values: object) -> str:
    return translate(TEXT, key, lang(), **values)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="notify")


def build_config(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """The channel config from the command's options (unset options left out), validated
    for `kind`; an option that does not apply to the kind is an error."""
    config = {key: value for key, value in options.items() if value not in (None, [], ())}
    parse_config(kind, config)
    return config


@app.command("add-channel")
def add_channel(
    kind: str = typer.Argument(..., help="email | webhook | slack | teams | pagerduty"),
    name: str = typer.Option(..., "--name", help="A name for this channel."),
    url: str | None = typer.Option(
        None, "--url", help="Webhook URL (webhook, slack, teams, pagerduty endpoint)."
    ),
    url_secret: str | None = typer.Option(
        None, "--url-secret", help="Secret holding the URL (Slack/Teams URLs are credentials)."
    ),
    events: str | None = typer.Option(
        None, "--events", help="Comma-separated event kinds, or 'all'; default per kind."
    ),
    to: list[str] = typer.Option([], "--to", help="Email recipient (repeatable)."),
    from_: str | None = typer.Option(None, "--from", help="Email sender."),
    smtp_host: str | None = typer.Option(None, "--smtp-host"),
    smtp_port: int | None = typer.Option(None, "--smtp-port"),
    security: str | None = typer.Option(None, "--security", help="starttls | ssl | none"),
    username: str | None = typer.Option(None, "--username", help="SMTP login."),
    password_secret: str | None = typer.Option(
        None, "--password-secret", help="Secret holding the SMTP password."
    ),
    signing_secret: str | None = typer.Option(
        None, "--signing-secret", help="Secret holding the webhook's HMAC key."
    ),
    routing_key_secret: str | None = typer.Option(
        None, "--routing-key-secret", help="Secret holding the PagerDuty routing key."
    ),
    severity: str | None = typer.Option(None, "--severity", help="PagerDuty severity."),
    channel_lang: str | None = typer.Option(None, "--lang", help="en | es (default: tenant's)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add a notification channel."""
    options: dict[str, Any] = {
        "url": url,
        "url_secret": url_secret,
        "to": to,
        "from": from_,
        "host": smtp_host,
        "port": smtp_port,
        "security": security,
        "username": username,
        "password_secret": password_secret,
        "signing_secret": signing_secret,
        "routing_key_secret": routing_key_secret,
        "severity": severity,
        "lang": channel_lang,
    }
    with kyra_app() as kyra:
        config = build_config(kind, options)
        routed = parse_events(events.split(",")) if events else None
        channel = notify_store.add_channel(
            kyra.store, kyra.tenant.id, name=name, kind=kind, config=config, events=routed
        )
    if as_json:
        print_json(_channel_json(channel))
        return
    console.print(_t("added", name=name, kind=kind))


def _channel_json(c: Any) -> dict[str, Any]:
    return {
        "name": c.name,
        "kind": c.kind,
        "events": sorted(events_for(c)),
        "default_events": c.events is None,
        "config": c.config,
    }


def _result_json(r: DeliveryResult) -> dict[str, Any]:
    return {"channel": r.channel, "status": r.status, "attempts": r.attempts, "error": r.error}


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List channels and the events routed to each (configs hold secret names only)."""
    with kyra_app() as kyra:
        channels = notify_store.list_channels(kyra.store, kyra.tenant.id)
    rows: list[dict[str, Any]] = [_channel_json(c) for c in channels]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(_t("none"))
        return
    table = Table("name", "kind", "events", "config")
    for row in rows:
        config = ", ".join(f"{k}={v}" for k, v in row["config"].items())
        table.add_row(row["name"], row["kind"], ", ".join(row["events"]), config)
    console.print(table)


@app.command("remove")
def remove(
    name: str = typer.Argument(..., help="Channel name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Remove a channel (and its delivery history)."""
    with kyra_app() as kyra:
        notify_store.remove_channel(kyra.store, kyra.tenant.id, name)
    if as_json:
        print_json({"name": name, "removed": True})
        return
    console.print(_t("removed", name=name))


@app.command("test")
def test(
    name: str = typer.Argument(..., help="Channel name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Send a test message to one channel; exit code 1 when it could not be delivered."""
    with kyra_app() as kyra:
        result = kyra.notifier.send_test(kyra.tenant.id, name)
    if as_json:
        print_json(_result_json(result))
        if result.status != "sent":
            raise typer.Exit(EXIT_WORKFLOW_FAILED)
        return
    if result.status != "sent":
        fail(
            _t(
                "failed",
                name=name,
                attempts=result.attempts,
                error=result.error.replace("[", "\\["),
            ),
            EXIT_WORKFLOW_FAILED,
        )
    console.print(_t("sent", name=name))


@app.command("retry")
def retry(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Send again the deliveries that failed (a channel that was down, a missing secret)."""
    with kyra_app() as kyra:
        results = kyra.notifier.retry_failed(tenant_id=kyra.tenant.id)
    if as_json:
        print_json([_result_json(r) for r in results])
        return
    sent = sum(1 for r in results if r.status in ("sent", "skipped"))
    console.print(_t("retried", sent=sent, total=len(results)))
