"""The `kyra` command. Each command group lives in its own module and registers itself
here; commands stay thin (parse, call a service function, render)."""

from __future__ import annotations

import typer

from kyra.cli import diagnose as _diagnose

EXIT_OK = 0
EXIT_WORKFLOW_FAILED = 1
EXIT_USAGE = 2

app = typer.Typer(
    name="kyra",
    help="Kyra: workflows that heal themselves. / Flujos de trabajo que se reparan solos.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (_diagnose,):
    _module.register(app)


def main() -> None:
    app()
