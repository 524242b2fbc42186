"""The core install — `pip install kyra-autofix`, no extras — runs every CLI command.

A fresh virtual environment gets this checkout installed without `[api]`, `[celery]`,
`[postgres]` or `[llm]`; then every command's `--help` runs, the commands that need an
extra say which in one line (exit 2, English and Spanish), and the everyday commands run
end to end. The install is the slow part (~20 s, pip's cache warm), done once here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPTIONAL = ("fastapi", "uvicorn", "celery", "psycopg", "openai", "anthropic", "prometheus_client")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# Inside the fresh venv: `--help` of every command and sub-command (the lazy root loads
# each), and which optional packages happen to be importable.
_EVERY_HELP = """
import importlib.util, json
from typer.testing import CliRunner
from typer.main import get_command
from kyra.cli import COMMANDS, app, load_command

runner = CliRunner()
failed, ran = {}, []

def walk(path, command):
    result = runner.invoke(app, [*path, "--help"])
    ran.append(" ".join(path))
    if result.exit_code != 0:
        failed[" ".join(path)] = result.output[-300:]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        walk([*path, name], sub)

for name in COMMANDS:
    walk([name], load_command(name))
optional = [m for m in %r if importlib.util.find_spec(m) is not None]
print(json.dumps({"ran": ran, "failed": failed, "optional": optional}))
"""


@dataclass
class CoreInstall:
    bin: Path
    project: Path

    def env(self, lang: str = "en") -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("KYRA_", "VIRTUAL_ENV"))}
        return {**clean, "KYRA_LANG": lang, "PATH": f"{self.bin}{os.pathsep}{clean['PATH']}"}

    def kyra(
        self, *args: str, stdin: str | None = None, lang: str = "en"
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "kyra"), *args],
            cwd=self.project,
            env=self.env(lang),
            input=stdin,
            text=True,
            capture_output=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CoreInstall]:
    base = tmp_path_factory.mktemp("core-install")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(ROOT)],
        text=True,
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    project = base / "project"
    project.mkdir()
    yield CoreInstall(venv / "bin", project)


def test_no_extra_is_installed_and_every_commands_help_runs(core: CoreInstall) -> None:
    probe = subprocess.run(
        [str(core.bin / "python"), "-c", _EVERY_HELP % (OPTIONAL,)],
        cwd=core.project,
        env=core.env(),
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    assert report["optional"] == []
    assert report["failed"] == {}
    assert {"serve", "worker", "scheduler", "db upgrade", "workflows validate"} <= set(
        report["ran"]
    )
    assert len(report["ran"]) > 50
    version = core.kyra("--version")
    assert version.returncode == 0 and version.stdout.startswith("kyra ")


@pytest.mark.parametrize(
    ("command", "lang", "expected"),
    [
        ("serve", "en", "kyra serve needs the api extra: pip install 'kyra-autofix[api]'"),
        ("serve", "es", "kyra serve necesita el extra api: pip install 'kyra-autofix[api]'"),
        ("worker", "en", "kyra worker needs the celery extra: pip install 'kyra-autofix[celery]'"),
        ("scheduler", "es", "kyra scheduler necesita el extra celery"),
    ],
)
def test_a_command_that_needs_an_extra_names_it_in_one_line(
    core: CoreInstall, command: str, lang: str, expected: str
) -> None:
    result = core.kyra(command, lang=lang)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert expected in line and "Traceback" not in result.stderr


def test_everyday_commands_run_end_to_end(core: CoreInstall) -> None:
    def ok(*args: str, stdin: str | None = None) -> str:
        result = core.kyra(*args, stdin=stdin)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    ok("init")
    ok("workflows", "validate", ".kyra/workflows/hello-kyra.yaml")
    ok("workflows", "apply", ".kyra/workflows/hello-kyra.yaml")
    assert "hello-kyra" in ok("workflows", "list")
    run = json.loads(ok("run", "hello-kyra", "--input", "author=Grace", "--json"))
    assert run["status"] == "succeeded"
    assert len(json.loads(ok("executions", "list", "--json"))) == 1
    ok("secrets", "set", "EXAMPLE_TOKEN", stdin="s3cr3t-value")
    assert json.loads(ok("secrets", "list", "--json")) == ["EXAMPLE_TOKEN"]
    assert ok("apikeys", "create", "--tenant", "default").startswith("kyra_")
    assert json.loads(ok("fixes", "list", "--json")) == []
    assert json.loads(ok("db", "current", "--json"))["up_to_date"] is True
    assert "workers" in ok("status", "--json")
    line = json.dumps({"status_code": 429, "headers": {"Retry-After": "3"}})
    diagnosis = json.loads(ok("diagnose", stdin=line + "\n").splitlines()[0])
    assert diagnosis["safety"] == "GREEN"
    schema = json.loads(ok("workflows", "schema"))
    assert "http_request" in schema["$defs"]["Step"]["properties"]["action"]["enum"]
