"""The `kyra` command. Each command group lives in its own module and registers itself
when it is run; commands stay thin (parse, call a service function, render).

The root group is lazy: `kyra --help` lists the commands from the table below without
importing them, and `kyra workflows list` imports the workflows module only. Importing
every command up front cost 3–4 s of CPU (scikit-learn, FastAPI, Alembic...), and made
the core install (no `[api]` extra) fail on commands that never serve anything.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

import kyra
from kyra.i18n import default_lang

COMMANDS: dict[str, tuple[str, str, str]] = {
    # command: (module that registers it, the line `kyra --help` shows in English, Spanish)
    "init": (
        "kyra.cli.init",
        "Create kyra.toml, the secret key, an example and the database.",
        "Crea kyra.toml, la clave secreta, un ejemplo y la base de datos.",
    ),
    "workflows": (
        "kyra.cli.workflows",
        "Define and inspect workflows.",
        "Define e inspecciona workflows.",
    ),
    "secrets": ("kyra.cli.secrets", "Encrypted secrets.", "Secretos cifrados."),
    "run": ("kyra.cli.run", "Run a workflow now.", "Ejecuta un workflow ahora."),
    "executions": ("kyra.cli.executions", "Inspect executions.", "Consulta ejecuciones."),
    "fixes": (
        "kyra.cli.fixes",
        "Fixes Kyra applied or proposes.",
        "Reparaciones aplicadas o propuestas.",
    ),
    "killswitch": (
        "kyra.cli.fixes",
        "Stop every automatic change at once.",
        "Detiene todo cambio automático.",
    ),
    "audit": (
        "kyra.cli.fixes",
        "The audit trail of automatic and manual changes.",
        "El registro de auditoría de cambios automáticos y manuales.",
    ),
    "incidents": (
        "kyra.cli.incidents",
        "Incidents across workflows (one host failing).",
        "Incidentes entre workflows (un host que falla).",
    ),
    "notify": ("kyra.cli.notify", "Notification channels.", "Canales de notificación."),
    "tenants": ("kyra.cli.tenants", "Tenants and their tiers.", "Tenants y sus tiers."),
    "apikeys": ("kyra.cli.tenants", "API keys.", "Claves API."),
    "rules": (
        "kyra.cli.rules",
        "Custom healing rules (enterprise).",
        "Reglas de reparación propias (enterprise).",
    ),
    "serve": (
        "kyra.cli.serve",
        "Run scheduler, workers, healing, API and dashboard.",
        "Ejecuta planificador, workers, reparación, API y panel.",
    ),
    "worker": (
        "kyra.cli.worker",
        "Start a Celery worker (scale-out runtime).",
        "Arranca un worker de Celery (runtime distribuido).",
    ),
    "scheduler": (
        "kyra.cli.worker",
        "Fire triggers for the Celery workers (scale-out).",
        "Dispara triggers para los workers de Celery (distribuido).",
    ),
    "status": (
        "kyra.cli.status",
        "What runs, what is queued, worker and host health.",
        "Qué se ejecuta, qué espera, salud de workers y hosts.",
    ),
    "fleet": (
        "kyra.cli.status",
        "Learned upstream limits and circuits: reset them.",
        "Límites y circuitos aprendidos de los servicios remotos: reinícialos.",
    ),
    "db": (
        "kyra.cli.db",
        "Database schema and retention.",
        "Esquema y retención de la base de datos.",
    ),
    "diagnose": (
        "kyra.cli.diagnose",
        "Diagnose failures (JSON lines in, JSON lines out).",
        "Diagnostica fallos (líneas JSON de entrada y de salida).",
    ),
    "eval": (
        "kyra.cli.diagnose",
        "Evaluate Kyra's engines on labelled data.",
        "Evalúa los motores de Kyra con datos etiquetados.",
    ),
    "demo": (
        "kyra.cli.demo",
        "Run the self-healing demo against a local faulty API.",
        "Ejecuta la demo de autorreparación contra una API local que falla.",
    ),
}


def load_command(name: str) -> Any:
    """The real command `name` (a Typer command or group), from the module that
    registers it."""
    module = import_module(COMMANDS[name][0])
    holder = typer.Typer()
    module.register(holder)
    holder.callback()(lambda: None)  # a group even when the module adds one command
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    return group.commands[name]


class LazyGroup(TyperGroup):
    """Lists placeholders (name + one line of help); imports a command when it is run
    or completed."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.loaded: set[str] = set()
        spanish = default_lang() == "es"  # the environment's language: no settings read
        for name, (_module, english, castilian) in COMMANDS.items():
            short = castilian if spanish else english
            self.commands[name] = TyperCommand(name, help=short, short_help=short)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's usage errors as one line (`Error: ... (kyra X --help)`), exit 2, like
        every other bad input, instead of a usage block and a boxed message."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        except typer.TyperException as exc:  # Click's errors (Typer vendors Click)
            ctx = getattr(exc, "ctx", None)
            if ctx is None or type(exc).__name__ == "NoArgsIsHelpError":
                exc.show()  # type: ignore[attr-defined]  # a group run bare: its help
            else:
                message = exc.format_message()
                typer.echo(f"Error: {message} ({ctx.command_path} --help)", err=True)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> Any:
        name = args[0] if args else None
        if name in COMMANDS and name not in self.loaded:
            self.commands[name] = load_command(name)
            self.loaded.add(name)
        return super().resolve_command(ctx, args)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kyra {kyra.__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="kyra",
    cls=LazyGroup,
    help="Kyra: workflows that heal themselves. / Flujos de trabajo que se reparan solos.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Kyra: workflows that heal themselves. / Flujos de trabajo que se reparan solos."""


def main() -> None:
    app(prog_name="kyra")
