"""Ready for operations: `--version`, `python -m kyra`, a lazy CLI, shell completion,
`kyra init`'s tenant, `kyra db`, retention, the project directory, numbers in text
parameters, notification links and JSON logs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update

import kyra as kyra_package
from kyra.api import create_api
from kyra.app import create_app
from kyra.demo import FaultServer
from kyra.logconfig import configure
from kyra.notify.messages import dashboard_link
from kyra.settings import Settings
from kyra.store import open_store
from kyra.store.db import current_revision, head_revision, make_engine
from kyra.store.healing_tables import AuditRow
from kyra.store.tables import ExecutionRow, StepRunRow
from kyra.store.types import utcnow
from tests.cli.conftest import Kyra

HEAVY = ("sklearn", "fastapi", "uvicorn", "alembic", "celery", "dateparser", "jinja2")


def _python(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        text=True,
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_version_from_the_command_and_python_m_kyra(kyra: Kyra) -> None:
    assert kyra("--version").stdout.strip() == f"kyra {kyra_package.__version__}"
    run = _python("-m", "kyra", "--version", cwd=kyra.root)
    assert run.returncode == 0 and run.stdout.strip() == f"kyra {kyra_package.__version__}"


# Run `kyra ARGS` in a fresh interpreter and report which heavy modules it imported.
_PROBE = """
import sys
from kyra.cli import app
try:
    app(sys.argv[1:], prog_name="kyra")
except SystemExit as exc:
    code = exc.code
print("HEAVY=" + ",".join(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["workflows", "list"],
        ["workflows", "show", "hello-kyra"],
        ["executions", "list"],
        ["fixes", "list"],
        ["db", "current"],
    ],
)
def test_commands_that_do_not_diagnose_or_serve_import_nothing_heavy(
    kyra: Kyra, args: list[str]
) -> None:
    kyra("workflows", "apply", ".kyra/workflows/hello-kyra.yaml")
    probe = _PROBE.format(heavy=HEAVY)
    run = _python("-c", probe, *args, cwd=kyra.root, env=kyra.env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "HEAVY=", run.stdout
    assert "hello-kyra" in run.stdout or args[0] != "workflows"


def test_help_lists_every_command_and_each_loads(kyra: Kyra) -> None:
    from kyra.cli import COMMANDS, load_command

    listing = kyra("--help").stdout
    for name, (_module, english, _spanish) in COMMANDS.items():
        assert name in listing and english[:30] in listing
        assert load_command(name).name == name
    run = _python("-m", "kyra", "--help", cwd=kyra.root, env={"KYRA_LANG": "es"})
    assert all(spanish[:30] in run.stdout for _m, _e, spanish in COMMANDS.values())


def test_shell_completion_reaches_lazily_loaded_subcommands(kyra: Kyra) -> None:
    run = _python(
        "-m",
        "kyra",
        cwd=kyra.root,
        env={"_KYRA_COMPLETE": "complete_bash", "COMP_WORDS": "kyra workflows ", "COMP_CWORD": "2"},
    )
    assert run.returncode == 0, run.stderr
    assert {"apply", "list", "show", "validate", "schema", "activate"} <= set(run.stdout.split())


def test_init_creates_the_default_tenant_so_a_key_can_be_made_at_once(kyra: Kyra) -> None:
    created = kyra("apikeys", "create", "--tenant", "default")
    assert created.exit_code == 0, created.output
    (line,) = created.stdout.splitlines()  # the key alone on stdout, on its own line
    assert line.startswith("kyra_") and created.stdout.endswith("\n")
    as_json = json.loads(kyra("apikeys", "create", "--tenant", "default", "--json").stdout)
    assert as_json["tenant"] == "default" and as_json["key"].startswith("kyra_")
    assert "default" in kyra("tenants", "list").stdout


# -- kyra db ------------------------------------------------------------------------------


def test_db_current_and_upgrade_on_an_empty_database(kyra: Kyra, tmp_path: Path) -> None:
    kyra.env["KYRA_DATABASE_URL"] = f"sqlite:///{tmp_path / 'other.db'}"
    behind = kyra("db", "current")
    assert behind.exit_code == 1 and f"needs {head_revision()}" in behind.stdout
    up = kyra("db", "upgrade", "--json")
    assert json.loads(up.stdout) == {"before": None, "current": head_revision(), "upgraded": True}
    again = kyra("db", "current", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["up_to_date"] is True


def test_head_revision_is_alembics_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", "kyra.store:migrations")
    assert ScriptDirectory.from_config(cfg).get_current_head() == head_revision()


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "run `kyra db upgrade`"), ("es", "ejecuta `kyra db upgrade`")],
)
def test_auto_migration_off_refuses_an_out_of_date_database(
    kyra: Kyra, tmp_path: Path, lang: str, expected: str
) -> None:
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", "kyra.store:migrations")
    from alembic.script import ScriptDirectory

    # the revision before the head (numbers are reserved per change, so they may skip)
    previous = str(ScriptDirectory.from_config(cfg).get_revision(head_revision()).down_revision)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, previous)
    engine.dispose()
    kyra.env.update(KYRA_DATABASE_URL=url, KYRA_DB_AUTO_MIGRATE="0")
    refused = kyra("workflows", "list", lang=lang)
    assert refused.exit_code == 2
    assert expected in refused.stderr and previous in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.output
    assert kyra("db", "upgrade").exit_code == 0
    assert kyra("workflows", "list").exit_code == 0
    engine = make_engine(url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_prune_keeps_what_a_fix_or_audit_record_names(kyra: Kyra) -> None:
    kyra("workflows", "apply", ".kyra/workflows/hello-kyra.yaml")
    for _ in range(4):
        assert kyra("run", "hello-kyra").exit_code == 0
    ids = [e["id"] for e in json.loads(kyra("executions", "list", "--json").stdout)]
    old, audited, recent = ids[:2], ids[2], ids[3]
    store = open_store(kyra.env["KYRA_DATABASE_URL"])
    long_ago = utcnow() - timedelta(days=40)
    with store.session.begin() as session:
        session.execute(
            update(ExecutionRow)
            .where(ExecutionRow.id.in_([*old, audited]))
            .values(created_at=long_ago, finished_at=long_ago)
        )
        session.add(AuditRow(execution_id=audited, kind="fix_applied", actor="kyra"))
    store.close()
    assert kyra("db", "prune").exit_code == 2  # no retention set: says how
    pruned = json.loads(kyra("db", "prune", "--days", "30", "--json").stdout)
    assert pruned["executions"] == 2 and pruned["steps"] == 2
    left = {e["id"] for e in json.loads(kyra("executions", "list", "--json").stdout)}
    assert left == {audited, recent}
    store = open_store(kyra.env["KYRA_DATABASE_URL"])
    with store.session() as session:
        assert session.query(StepRunRow).filter(StepRunRow.execution_id.in_(old)).count() == 0
    store.close()
    kyra.env["KYRA_RETENTION_DAYS"] = "30"
    assert json.loads(kyra("db", "prune", "--json").stdout)["executions"] == 0


# -- where the project lives -----------------------------------------------------------------


def _project_env(kyra: Kyra) -> dict[str, str | None]:
    """The test environment without an explicit database or home."""
    return {**kyra.env, "KYRA_DATABASE_URL": None, "KYRA_HOME": None}


def test_commands_find_the_project_from_a_subdirectory(tmp_path: Path) -> None:
    project = Kyra(tmp_path)
    project.env = _project_env(project)  # type: ignore[assignment]
    assert project("init").exit_code == 0
    assert (tmp_path / "kyra.db").is_file()
    sub = tmp_path / "flows" / "deep"
    sub.mkdir(parents=True)
    inner = Kyra(sub)
    inner.env = project.env
    assert inner("workflows", "apply", "../../.kyra/workflows/hello-kyra.yaml").exit_code == 0
    assert "hello-kyra" in inner("workflows", "list").stdout
    assert not (sub / "kyra.db").exists() and not (sub / ".kyra").exists()


@pytest.mark.parametrize(
    ("lang", "expected"), [("en", "run `kyra init` here"), ("es", "ejecuta `kyra init` aquí")]
)
def test_outside_a_project_a_command_says_so_and_creates_nothing(
    tmp_path: Path, lang: str, expected: str
) -> None:
    lost = Kyra(tmp_path)
    lost.env = _project_env(lost)  # type: ignore[assignment]
    result = lost("workflows", "list", lang=lang)
    assert result.exit_code == 2 and expected in result.stderr
    assert list(tmp_path.iterdir()) == []


# -- numbers in text parameters ------------------------------------------------------------------


def test_a_number_templated_into_a_header_query_or_url_is_sent_as_text(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    kyra.write(
        "ids.yaml",
        f"""\
name: ids
trigger: manual
inputs: {{n: 7, flag: true}}
steps:
  - name: call
    action: http_request
    with:
      url: "{fault_server.url}/echo"
      headers: {{X-Id: "{{{{ inputs.n }}}}", X-Flag: "{{{{ inputs.flag }}}}"}}
      query: {{page: "{{{{ inputs.n }}}}"}}
      body: "{{{{ inputs.n }}}}"
""",
    )
    assert kyra("workflows", "apply", "ids.yaml").exit_code == 0
    run = kyra("run", "ids", "--json")
    assert run.exit_code == 0, run.output
    (execution,) = json.loads(kyra("executions", "list", "--json").stdout)
    shown = json.loads(kyra("executions", "show", execution["id"], "--json").stdout)
    echo = shown["steps"][0]["output"]["json"]
    headers = {k.lower(): v for k, v in echo["headers"].items()}
    assert headers["x-id"] == "7" and headers["x-flag"] == "true"
    assert echo["query"] == {"page": "7"} and echo["body"] == "7"


# -- links and logs ----------------------------------------------------------------------------


def test_notification_links_point_at_a_real_dashboard_page(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'kyra.db'}",
        home=tmp_path,
        public_url="https://kyra.example.com/",
    )
    with create_app(settings) as app:
        link = dashboard_link(app.settings.public_url, "daily report")
        assert link == "https://kyra.example.com/dashboard/workflows/daily%20report"
        with TestClient(create_api(app)) as http:
            page = http.get(link.removeprefix("https://kyra.example.com"), follow_redirects=False)
            missing = http.get("/workflows/daily%20report", follow_redirects=False)
    assert page.status_code != 404 and missing.status_code == 404


def test_json_logs_carry_the_execution_and_workflow(
    kyra: Kyra, fault_server: FaultServer, capsys: pytest.CaptureFixture[str]
) -> None:
    kyra.write(
        "limited.yaml",
        f"""\
name: limited
trigger: manual
config: {{retry: {{max_retries: 0}}}}
steps:
  - name: call
    action: http_request
    with: {{url: "{fault_server.url}/status/429?header=Retry-After:1"}}
""",
    )
    assert kyra("workflows", "apply", "limited.yaml").exit_code == 0
    settings = Settings(database_url=kyra.env["KYRA_DATABASE_URL"], home=kyra.root / ".kyra")
    capsys.readouterr()
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    configure("json", "INFO")
    try:
        with create_app(settings) as app:
            from kyra.store import workflows as wf_store

            record = wf_store.get_workflow(app.store, app.tenant.id, "limited")
            result = app.executor().run(record)
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    paced = [x for x in lines if x["logger"] == "kyra.fleet"]
    assert paced and paced[0]["level"] == "INFO" and "pacing" in paced[0]["message"]
    assert paced[0]["execution_id"] == result.execution_id
    assert paced[0]["workflow"] == "limited" and paced[0]["workflow_id"] == record.id


def test_the_background_pruner_of_serve_and_scheduler(kyra: Kyra) -> None:
    from kyra.runtime.retention import start_retention
    from tests.waiting import wait_for

    kyra("workflows", "apply", ".kyra/workflows/hello-kyra.yaml")
    for _ in range(2):
        assert kyra("run", "hello-kyra").exit_code == 0
    old = json.loads(kyra("executions", "list", "--json").stdout)[-1]["id"]
    store = open_store(kyra.env["KYRA_DATABASE_URL"])
    with store.session.begin() as session:
        long_ago = utcnow() - timedelta(days=10)
        session.execute(
            update(ExecutionRow)
            .where(ExecutionRow.id == old)
            .values(created_at=long_ago, finished_at=long_ago)
        )
    store.close()
    base = {"database_url": kyra.env["KYRA_DATABASE_URL"], "home": kyra.root / ".kyra"}
    with create_app(Settings(**base)) as app:
        assert start_retention(app) is None  # KYRA_RETENTION_DAYS unset: keep everything
    with create_app(Settings(**base, retention_days=7)) as app:
        loop = start_retention(app)
        assert loop is not None
        try:
            wait_for(lambda: loop.pruned == 1, 30, "the first prune")
        finally:
            loop.stop()
    left = [e["id"] for e in json.loads(kyra("executions", "list", "--json").stdout)]
    assert len(left) == 1 and old not in left


def test_every_cli_catalog_speaks_english_and_spanish() -> None:
    from importlib import import_module

    from kyra.cli import COMMANDS
    from kyra.cli.messages import MESSAGES
    from kyra.i18n import missing_translations

    modules = {import_module(module) for module, _en, _es in COMMANDS.values()}
    catalogs = [MESSAGES]
    for module in modules:
        for value in vars(module).values():
            if (
                isinstance(value, dict)
                and value
                and all(isinstance(texts, dict) and "en" in texts for texts in value.values())
            ):
                catalogs.append(value)
    assert len(catalogs) > 8
    for catalog in catalogs:
        assert missing_translations(catalog) == []


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "invalid setting KYRA_LOG_FORMAT"), ("es", "ajuste no válido KYRA_LOG_FORMAT")],
)
def test_a_bad_setting_is_one_line(kyra: Kyra, lang: str, expected: str) -> None:
    kyra.env["KYRA_LOG_FORMAT"] = "xml"
    result = kyra("workflows", "list", lang=lang)
    assert result.exit_code == 2 and "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert expected in line


def test_a_database_newer_than_kyra_is_refused(kyra: Kyra) -> None:
    store = open_store(kyra.env["KYRA_DATABASE_URL"])
    with store.session.begin() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.close()
    for args in (("db", "upgrade"), ("workflows", "list")):
        refused = kyra(*args)
        assert refused.exit_code == 2 and "newer than this Kyra" in refused.stderr, args
    assert kyra("db", "current").exit_code == 1


def test_serve_links_to_itself_unless_told_otherwise() -> None:
    from kyra.cli.serve import own_url

    assert own_url("127.0.0.1", 9000) == "http://127.0.0.1:9000"
    assert own_url("0.0.0.0", 8765) == "http://127.0.0.1:8765"
    assert own_url("::1", 8080) == "http://[::1]:8080"
