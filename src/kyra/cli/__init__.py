"""The `kyra` command. Each command group lives in its own module and registers itself
here; commands stay thin (parse, call a service function, render)."""

from __future__ import annotations

import typer

from kyra.cli import demo as _demo
from kyra.cli import diagnose as _diagnose
from kyra.cli import executions as _executions
from kyra.cli import fixes as _fixes
from kyra.cli import init as _init
from kyra.cli import notify as _notify
from kyra.cli import rules as _rules
from kyra.cli import run as _run
from kyra.cli import secrets as _secrets
from kyra.cli import serve as _serve
from kyra.cli import status as _status
from kyra.cli import tenants as _tenants
from kyra.cli import worker as _worker
from kyra.cli import workflows as _workflows

app = typer.Typer(
    name="kyra",
    help="Kyra: workflows that heal themselves. / Flujos de trabajo que se reparan solos.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (
    _init,
    _workflows,
    _secrets,
    _run,
    _executions,
    _fixes,
    _notify,
    _tenants,
    _rules,
    _serve,
    _worker,
    _status,
    _diagnose,
    _demo,
):
    _module.register(app)


def main() -> None:
    app()
