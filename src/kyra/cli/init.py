"""`kyra init`: a key file (0600), a config file, an example workflow, a ready database."""

from __future__ import annotations

from pathlib import Path

import typer

from kyra.cli.common import console, handled, settings, t
from kyra.settings import CONFIG_FILE
from kyra.store.crypto import create_key_file

CONFIG_TEMPLATE = """\
# Kyra settings. Environment variables (KYRA_<NAME>) override this file.
database_url = "sqlite:///./kyra.db"
# database_url = "postgresql+psycopg://user@127.0.0.1:5432/kyra"
home = ".kyra"
tenant = "default"
# lang = "es"
"""

EXAMPLE_WORKFLOW = """\
name: hello-kyra
description: An example to edit. Runs offline; uncomment the HTTP step to call an API.
trigger: manual
inputs:
  author: Ada
config:
  timeout: 10s
  request_delay: 0s
  retry:
    max_retries: 2
    backoff: exponential
    initial_delay: 1s
steps:
  - name: greet
    action: transform
    with:
      value:
        greeting: "Hello, {{ inputs.author }}"
        at: "{{ now.isoformat() }}"
  # - name: post
  #   action: http_request
  #   with:
  #     method: POST
  #     url: https://api.example.com/greetings
  #     auth: {bearer: "{{ secrets.EXAMPLE_TOKEN }}"}
  #     json: "{{ steps.greet.output }}"
"""


def register(root: typer.Typer) -> None:
    root.command("init")(init)


def _write_once(path: Path, text: str) -> None:
    if path.exists():
        console.print(t("init.kept", path=_shown(path.resolve())))
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    console.print(t("init.config", path=_shown(path.resolve())))


def _shown(path: Path) -> Path:
    """`path` relative to the current directory when it is below it (what to type)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def init() -> None:
    """Create kyra.toml, the secret key, an example workflow, the database and the
    default tenant."""
    from kyra.app import create_app

    with handled():
        _write_once(Path(CONFIG_FILE), CONFIG_TEMPLATE)
        cfg = settings()
        if create_key_file(cfg.key_file):
            console.print(t("init.created_key", path=_shown(cfg.key_file)), soft_wrap=True)
        else:
            console.print(t("init.kept_key", path=_shown(cfg.key_file)))
        example = cfg.home / "workflows" / "hello-kyra.yaml"
        _write_once(example, EXAMPLE_WORKFLOW)
        with create_app(cfg) as app:
            tenant = app.tenant  # created now, so `kyra apikeys create --tenant NAME` works
            url = app.store.engine.url.render_as_string(hide_password=True)
        console.print(t("init.database", url=url))
        console.print(t("init.tenant", name=tenant.name, tier=tenant.tier))
        console.print(t("init.next", example=_shown(example), name="hello-kyra"), soft_wrap=True)
