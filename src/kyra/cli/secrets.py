"""`kyra secrets set|list|delete`. Values come from stdin or a hidden prompt, never argv
(argv is visible to every user in `ps` and lands in shell history)."""

from __future__ import annotations

import sys

import typer

from kyra.cli.common import console, fail, kyra_app, print_json, t
from kyra.predict.credentials import secret_expiry
from kyra.store import secrets as secret_store

app = typer.Typer(help="Encrypted secrets. / Secretos cifrados.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="secrets")


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        value: str = typer.prompt(t("secret.prompt", name=name), hide_input=True)
        return value
    value = sys.stdin.read()
    value = value[:-1] if value.endswith("\n") else value
    if value.endswith("\r"):
        value = value[:-1]
    if not value:
        fail(t("secret.empty_stdin"))
    return value


JSON_OPTION = typer.Option(False, "--json", help="Print JSON.")


@app.command("set")
def set_(
    name: str = typer.Argument(..., help="Secret name, e.g. SLACK_WEBHOOK."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Store a secret, reading its value from standard input or a hidden prompt. When the
    value says when it expires (a JWT, an OAuth token object), that date is shown."""
    value = _read_value(name)
    expiry = secret_expiry(value)
    with kyra_app() as kyra:
        created = secret_store.set_secret(kyra.store, kyra.box, kyra.tenant.id, name, value)
        now, days = kyra.clock.now(), kyra.settings.credential_expiry_warning_days
    if as_json:
        expires_at = expiry.at.isoformat() if expiry else None
        print_json({"name": name, "created": created, "expires_at": expires_at})
        return
    console.print(t("secret.saved" if created else "secret.updated", name=name))
    if expiry is not None:
        key = "secret.expired" if expiry.at <= now else "secret.expires"
        when = f"{expiry.at:%Y-%m-%d %H:%M}"
        console.print(t(key, expires=when, form=expiry.form.upper(), days=days))


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List secret names (never values)."""
    with kyra_app() as kyra:
        names = secret_store.secret_names(kyra.store, kyra.tenant.id)
    if as_json:
        print_json(names)
    elif names:
        for name in names:
            console.print(name)
    else:
        console.print(t("secret.none"))


@app.command("delete")
def delete(
    name: str = typer.Argument(..., help="Secret name."), as_json: bool = JSON_OPTION
) -> None:
    """Delete a secret."""
    with kyra_app() as kyra:
        secret_store.delete_secret(kyra.store, kyra.tenant.id, name)
    if as_json:
        print_json({"name": name, "deleted": True})
        return
    console.print(t("secret.deleted", name=name))
