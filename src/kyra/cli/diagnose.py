"""`kyra diagnose` and `kyra eval diagnosis` (placeholder until the diagnosis module lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds this module's commands to the main app."""
    _ = app
