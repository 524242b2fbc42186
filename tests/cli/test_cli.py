"""The `kyra` command: happy paths, exit codes, and bad input that changes nothing."""

from __future__ import annotations

import json
import logging
import sqlite3

import pytest

from kyra.demo import FaultServer
from tests.cli.conftest import Kyra

SECRET = "s3cr3t-Token-Value-991"


def _flow(url: str, *, name: str = "orders", extra: str = "") -> str:
    return f"""\
name: {name}
description: Fetch and post.
trigger: manual
inputs: {{who: nobody}}
config:
  timeout: 2s
  retry: {{max_retries: 0}}
steps:
  - name: fetch
    action: http_request
    with:
      url: {url}/ok
      auth: {{bearer: "{{{{ secrets.API_TOKEN }}}}"}}
      query: {{who: "{{{{ inputs.who }}}}"}}
{extra}"""


def _db_dump(kyra: Kyra) -> str:
    con = sqlite3.connect(kyra.root / "kyra.db")
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


def _workflow_rows(kyra: Kyra) -> list[tuple[str, int]]:
    con = sqlite3.connect(kyra.root / "kyra.db")
    try:
        return con.execute("SELECT name, config_version FROM workflows ORDER BY name").fetchall()
    finally:
        con.close()


def test_init_creates_a_private_key_and_an_example(kyra: Kyra) -> None:
    key = kyra.root / ".kyra" / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert (kyra.root / "kyra.toml").exists()
    assert kyra("workflows", "apply", ".kyra/workflows/hello-kyra.yaml").exit_code == 0
    result = kyra("run", "hello-kyra", "--input", "author=Grace")
    assert result.exit_code == 0, result.output
    assert "greet" in result.stdout


def test_apply_run_list_show(kyra: Kyra, fault_server: FaultServer) -> None:
    assert kyra("secrets", "set", "API_TOKEN", input=SECRET).exit_code == 0
    kyra.write("flow.yaml", _flow(fault_server.url))
    applied = kyra("workflows", "apply", "flow.yaml", "--json")
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)["config_version"] == 1

    run = kyra("run", "orders", "--input", "who=ana")
    assert run.exit_code == 0, run.output
    assert "fetch" in run.stdout

    listed = json.loads(kyra("workflows", "list", "--json").stdout)
    assert [(w["name"], w["state"], w["config_version"]) for w in listed] == [
        ("orders", "active", 1)
    ]
    shown = json.loads(kyra("workflows", "show", "orders", "--json").stdout)
    assert shown["config_history"][0]["author"] == "user"
    executions = json.loads(kyra("executions", "list", "--json").stdout)
    assert len(executions) == 1 and executions[0]["status"] == "succeeded"
    detail = json.loads(kyra("executions", "show", executions[0]["id"][:8], "--json").stdout)
    assert detail["steps"][0]["output"]["json"]["echo"] == {"who": "ana"}


def test_failed_run_exits_1_and_is_listed_by_status(kyra: Kyra, fault_server: FaultServer) -> None:
    kyra("secrets", "set", "API_TOKEN", input=SECRET)
    kyra.write(
        "flow.yaml",
        _flow(
            fault_server.url,
            extra=f"""\
  - name: broken
    action: http_request
    with:
      url: {fault_server.url}/status/503
""",
        ),
    )
    kyra("workflows", "apply", "flow.yaml")
    result = kyra("run", "orders", "--no-heal")
    assert result.exit_code == 1
    assert "broken" in result.stdout
    failed = json.loads(kyra("executions", "list", "--status", "failed", "--json").stdout)
    assert [e["failed_step"] for e in failed] == ["broken"]
    assert json.loads(kyra("workflows", "list", "--json").stdout)[0]["state"] == "failed"


def test_secret_never_appears_in_records_logs_or_output(
    kyra: Kyra, fault_server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kyra("secrets", "set", "API_TOKEN", input=SECRET)
    kyra.write(
        "flow.yaml",
        _flow(
            fault_server.url,
            extra=f"""\
  - name: leak
    action: http_request
    with:
      method: POST
      url: {fault_server.url}/status/500?body={{{{ secrets.API_TOKEN }}}}
      json: {{token: "{{{{ secrets.API_TOKEN }}}}"}}
""",
        ),
    )
    kyra("workflows", "apply", "flow.yaml")
    outputs = [kyra("run", "orders", "--no-heal").output]
    for e in json.loads(kyra("executions", "list", "--json").stdout):
        outputs.append(kyra("executions", "show", e["id"]).output)
        outputs.append(kyra("executions", "show", e["id"], "--json").output)
    outputs.append(kyra("secrets", "list").output)
    assert all(SECRET not in text for text in outputs)
    assert SECRET not in _db_dump(kyra)
    assert SECRET not in caplog.text
    assert "[REDACTED]" in outputs[-2]


BAD_INPUTS = {
    "malformed yaml": ("name: x\nsteps: [\n  - {name: a\n", "YAML syntax error"),
    "unknown action": (
        "name: x\nsteps:\n  - name: a\n    action: htp_request\n",
        "did you mean 'http_request'",
    ),
    "missing parameter": (
        "name: x\nsteps:\n  - name: a\n    action: http_request\n    with: {}\n",
        "steps[0].with.url: field required",
    ),
    "template error": (
        "name: x\nsteps:\n  - name: a\n    action: http_request\n    with: {url: '{{ inputs.x '}\n",
        "template",
    ),
    "template escape": (
        "name: x\nsteps:\n  - name: a\n    action: transform\n"
        "    with: {value: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"}\n",
        "unsafe",
    ),
    "globals escape": (
        "name: x\nsteps:\n  - name: a\n    action: transform\n"
        "    with: {value: '{{ lipsum.__globals__ }}'}\n",
        "unsafe",
    ),
    "unknown secret": (
        "name: x\nsteps:\n  - name: a\n    action: http_request\n"
        "    with: {url: 'http://127.0.0.1:1/', auth: {bearer: '{{ secrets.NOPE }}'}}\n",
        "unknown secret 'NOPE'",
    ),
    "bad cron": (
        "name: x\ntrigger: {cron: '* *'}\nsteps:\n  - {name: a, action: wait, "
        "with: {duration: 1s}}\n",
        "cron",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_one_clear_message_exit_2_and_changes_nothing(
    kyra: Kyra, case: str
) -> None:
    text, expected = BAD_INPUTS[case]
    before = _workflow_rows(kyra)
    kyra.write("bad.yaml", text)
    result = kyra("workflows", "apply", "bad.yaml")
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "bad.yaml" in result.stderr
    assert "Traceback" not in result.output
    assert _workflow_rows(kyra) == before


def test_name_clash_is_refused_without_replace(kyra: Kyra, fault_server: FaultServer) -> None:
    kyra("secrets", "set", "API_TOKEN", input=SECRET)
    kyra.write("a.yaml", _flow(fault_server.url))
    kyra.write("b.yaml", _flow(fault_server.url).replace("timeout: 2s", "timeout: 9s"))
    assert kyra("workflows", "apply", "a.yaml").exit_code == 0
    clash = kyra("workflows", "apply", "b.yaml")
    assert clash.exit_code == 2 and "already exists" in clash.stderr
    assert _workflow_rows(kyra) == [("orders", 1)]
    assert kyra("workflows", "apply", "b.yaml", "--replace").exit_code == 0
    assert _workflow_rows(kyra) == [("orders", 2)]


def test_usage_errors_exit_2(kyra: Kyra) -> None:
    assert kyra("run", "nope").exit_code == 2
    assert kyra("run", "hello-kyra", "--input", "novalue").exit_code == 2
    assert kyra("executions", "show", "abc").exit_code == 2
    assert kyra("workflows", "apply", "missing.yaml").exit_code == 2
    assert kyra("frobnicate").exit_code == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("frobnicate",), "Error: No such command 'frobnicate'. (kyra --help)"),
        (("run",), "Error: Missing argument 'name'. (kyra run --help)"),
        (("apikeys", "list"), "Error: Missing option '--tenant'. (kyra apikeys list --help)"),
        (("workflows", "list", "--bogus"), "Error: No such option: --bogus"),
        (("executions", "list", "--limit", "-5"), "Error: Invalid value for '--limit'"),
    ],
)
def test_a_usage_error_is_one_line(kyra: Kyra, args: tuple[str, ...], expected: str) -> None:
    result = kyra(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(expected), result.stderr


def test_secret_value_is_never_taken_from_argv(kyra: Kyra) -> None:
    result = kyra("secrets", "set", "TOKEN", "value-on-argv")
    assert result.exit_code == 2
    assert kyra("secrets", "list", "--json").stdout.strip() == "[]"


def test_spanish_output(kyra: Kyra, fault_server: FaultServer) -> None:
    kyra("secrets", "set", "API_TOKEN", input=SECRET, lang="es")
    kyra.write("flow.yaml", _flow(fault_server.url))
    assert "creado" in kyra("workflows", "apply", "flow.yaml", lang="es").stdout
    assert "Ejecutando" in kyra("run", "orders", lang="es").stdout
