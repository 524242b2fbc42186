"""`kyra init`: a key file (0600), a config file, an example workflow, a ready database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from kyra.cli.common import console, handled, print_json, settings, shown_url, t
from kyra.redaction import redact
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


def _write_once(path: Path, text: str, say: Callable[[str], None]) -> bool:
    """Write `path` unless it exists; True when written."""
    if path.exists():
        say(t("init.kept", path=_shown(path.resolve())))
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    say(t("init.config", path=_shown(path.resolve())))
    return True


def _shown(path: Path) -> Path:
    """`path` relative to the current directory when it is below it (what to type)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def init(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Create kyra.toml, the secret key, an example workflow, the database and the
    default tenant (what exists already is kept)."""
    from kyra.app import create_app

    def say(text: str) -> None:
        if not as_json:
            console.print(text, soft_wrap=True)

    with handled():
        config = Path(CONFIG_FILE)
        wrote_config = _write_once(config, CONFIG_TEMPLATE, say)
        cfg = settings()
        created_key = create_key_file(cfg.key_file)
        key_message = "init.created_key" if created_key else "init.kept_key"
        say(t(key_message, path=_shown(cfg.key_file)))
        example = cfg.home / "workflows" / "hello-kyra.yaml"
        wrote_example = _write_once(example, EXAMPLE_WORKFLOW, say)
        with create_app(cfg) as app:
            tenant = app.tenant  # created now, so `kyra apikeys create --tenant NAME` works
            raw_url = app.store.engine.url.render_as_string(hide_password=False)
            url = redact(raw_url)
    if as_json:
        print_json(
            {
                "config": {"path": str(config.resolve()), "created": wrote_config},
                "key_file": {"path": str(cfg.key_file), "created": created_key},
                "example": {"path": str(example), "created": wrote_example},
                "database": url,
                "tenant": {"name": tenant.name, "tier": tenant.tier},
            }
        )
        return
    say(t("init.database", url=shown_url(raw_url)))
    say(t("init.tenant", name=tenant.name, tier=tenant.tier))
    say(t("init.next", example=_shown(example), name="hello-kyra"))
