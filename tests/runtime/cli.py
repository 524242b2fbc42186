"""The runtime's commands on their own Typer app, so tests run them as real processes
(`python -m tests.runtime.cli serve`) exactly as `kyra serve` registers them."""

from __future__ import annotations

import typer

from kyra.cli import run, serve, status, worker

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
for module in (serve, worker, status, run):
    module.register(app)

if __name__ == "__main__":
    app()
