"""`kyra workflows validate|schema|apply DIR|-|activate|deactivate`, `--json` on every
mutation, and a `kyra fixes show` written for people."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema_rs
import pytest
import yaml

from kyra.demo import FaultServer
from tests.cli.conftest import Kyra

README = Path(__file__).resolve().parents[2] / "README.md"
BAD = """\
name: bad
steps:
  - name: call
    action: http_requests
    with:
      url: https://api.example.com
"""


def _flows(kyra: Kyra, *names: str) -> Path:
    folder = kyra.root / "flows"
    folder.mkdir(exist_ok=True)
    example = (kyra.root / ".kyra/workflows/hello-kyra.yaml").read_text(encoding="utf-8")
    for name in names:
        (folder / f"{name}.yaml").write_text(example.replace("hello-kyra", name), "utf-8")
    return folder


def test_validate_a_file_a_directory_and_stdin(kyra: Kyra) -> None:
    folder = _flows(kyra, "one", "two")
    ok = kyra("workflows", "validate", str(folder))
    assert ok.exit_code == 0 and "one" in ok.stdout and "two" in ok.stdout
    assert kyra("workflows", "list", "--json").stdout.strip() == "[]"  # nothing saved
    (folder / "bad.yaml").write_text(BAD, encoding="utf-8")
    bad = kyra("workflows", "validate", str(folder))
    assert bad.exit_code == 2 and f"{folder / 'bad.yaml'}:4: steps[0].action" in bad.stderr
    report = json.loads(kyra("workflows", "validate", str(folder), "--json").stdout)
    assert [r["valid"] for r in report] == [False, True, True]
    piped = kyra("workflows", "validate", "-", input=BAD)
    assert piped.exit_code == 2 and "<stdin>:4:" in piped.stderr
    missing = kyra("workflows", "validate", "nope.yaml")
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    flood = kyra("workflows", "validate", "-", input="a" * 1_000_001, lang="es")
    assert flood.exit_code == 2
    assert flood.stderr.strip() == (
        "Error: la entrada estándar tiene más de 1000000 bytes; un workflow ocupa menos"
    )


def test_apply_a_directory_all_or_nothing_and_stdin(kyra: Kyra) -> None:
    folder = _flows(kyra, "one", "two")
    (folder / "bad.yaml").write_text(BAD, encoding="utf-8")
    refused = kyra("workflows", "apply", str(folder))
    assert refused.exit_code == 2 and "bad.yaml:4" in refused.stderr
    assert json.loads(kyra("workflows", "list", "--json").stdout) == []
    (folder / "bad.yaml").unlink()
    applied = json.loads(kyra("workflows", "apply", str(folder), "--json").stdout)
    assert [(a["name"], a["created"]) for a in applied] == [("one", True), ("two", True)]
    text = (folder / "one.yaml").read_text(encoding="utf-8").replace("name: one", "name: three")
    piped = kyra("workflows", "apply", "-", "--json", input=text)
    assert piped.exit_code == 0 and json.loads(piped.stdout)["name"] == "three"
    again = kyra("workflows", "apply", str(folder), "--replace", "--json")
    assert [a["created"] for a in json.loads(again.stdout)] == [False, False]


def _readme_workflow() -> dict[str, object]:
    text = README.read_text(encoding="utf-8")
    block = text.split("## A workflow", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    return yaml.safe_load(block)


def test_the_schema_accepts_real_workflows_and_catches_typos(kyra: Kyra) -> None:
    result = kyra("workflows", "schema")
    assert result.exit_code == 0
    validator = jsonschema_rs.Draft202012Validator(json.loads(result.stdout))
    example = yaml.safe_load((kyra.root / ".kyra/workflows/hello-kyra.yaml").read_text("utf-8"))
    readme = _readme_workflow()
    for document in (example, readme):
        assert validator.is_valid(document), list(validator.iter_errors(document))[:3]
    assert kyra("workflows", "validate", "-", input=yaml.safe_dump(readme)).exit_code == 0
    typo = json.loads(json.dumps(readme))
    typo["steps"][0]["with"]["urll"] = typo["steps"][0]["with"].pop("url")  # type: ignore[index]
    assert not validator.is_valid(typo)
    slow = {**readme, "config": {"timeout": "thirty"}}
    assert not validator.is_valid(slow)
    assert not validator.is_valid({**readme, "trigger": "hourly"})


@pytest.mark.parametrize(
    ("lang", "paused"), [("en", "is now inactive"), ("es", "está ahora inactive")]
)
def test_activate_and_deactivate(kyra: Kyra, lang: str, paused: str) -> None:
    kyra("workflows", "apply", ".kyra/workflows/hello-kyra.yaml")
    off = kyra("workflows", "deactivate", "hello-kyra", lang=lang)
    assert off.exit_code == 0 and paused in off.stdout
    on = json.loads(kyra("workflows", "activate", "hello-kyra", "--json").stdout)
    assert on["state"] == "active"
    shown = json.loads(kyra("workflows", "show", "hello-kyra", "--json").stdout)
    assert [(s["from"], s["to"]) for s in shown["state_history"]] == [
        ("active", "inactive"),
        ("inactive", "active"),
    ]
    missing = kyra("workflows", "activate", "nope")
    assert missing.exit_code == 2 and "nope" in missing.stderr


def test_every_mutation_speaks_json(kyra: Kyra) -> None:
    def js(*args: str, input: str | None = None) -> object:
        result = kyra(*args, "--json", input=input)
        assert result.exit_code == 0, (args, result.output)
        return json.loads(result.stdout)

    again = js("init")
    assert again["tenant"] == {"name": "default", "tier": "enterprise"}  # type: ignore[index]
    assert again["config"]["created"] is False  # type: ignore[index]
    assert js("secrets", "set", "TOKEN", input="abcdef123") == {
        "name": "TOKEN",
        "created": True,
        "expires_at": None,  # not a JWT or OAuth token: no known expiry
    }
    assert js("secrets", "set", "TOKEN", input="abcdef456")["created"] is False
    assert js("tenants", "create", "acme", "--tier", "pro") == {
        "name": "acme",
        "tier": "pro",
        "lang": "en",
    }
    updated = js("tenants", "set", "acme", "--dashboard-url", "https://kyra.acme.test")
    assert updated["dashboard_base_url"] == "https://kyra.acme.test"  # type: ignore[index]
    key = js("apikeys", "create", "--tenant", "acme")
    assert js("apikeys", "revoke", key["prefix"], "--tenant", "acme") == {  # type: ignore[index]
        "prefix": key["prefix"],  # type: ignore[index]
        "revoked": True,
    }
    switch = js("killswitch", "on", "--reason", "maintenance")
    assert switch == {
        "enabled": True,
        "scope": "tenant",
        "reason": "maintenance",
        "stopped_fixes": [],
    }
    assert js("killswitch", "off")["enabled"] is False  # type: ignore[index]
    channel = js(
        "notify",
        "add-channel",
        "webhook",
        "--name",
        "ops",
        "--url",
        "https://hooks.test/k",
        "--signing-secret",
        "TOKEN",
    )
    assert channel["name"] == "ops" and channel["kind"] == "webhook"  # type: ignore[index]
    assert js("notify", "remove", "ops") == {"name": "ops", "removed": True}
    assert js("secrets", "delete", "TOKEN") == {"name": "TOKEN", "deleted": True}


def test_fix_decisions_in_json_and_a_fix_shown_to_a_person(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    kyra.write(
        "signup.yaml",
        f"""\
name: signup
steps:
  - name: call
    action: http_request
    with: {{url: "{fault_server.url}/require?fields=email", method: POST, json: {{name: Ana}}}}
""",
    )
    kyra("workflows", "apply", "signup.yaml")
    assert kyra("run", "signup").exit_code == 1
    [proposed] = json.loads(kyra("fixes", "list", "--json").stdout)
    for lang, labels in (("en", ("Diagnosis", "Before", "After")), ("es", ("Diagnóstico",))):
        shown = kyra("fixes", "show", proposed["id"][:8], lang=lang)
        assert shown.exit_code == 0
        assert not shown.stdout.lstrip().startswith("{")  # for people, not raw JSON
        assert "signup" in shown.stdout and proposed["error_class"] in shown.stdout
        assert all(label in shown.stdout for label in labels)
    as_json = json.loads(kyra("fixes", "show", proposed["id"], "--json").stdout)
    assert as_json["id"] == proposed["id"] and "audit" in as_json
    approved = kyra("fixes", "approve", proposed["id"][:8], "--value", "ana@x.test", "--json")
    assert approved.exit_code == 0, approved.output
    decided = json.loads(approved.stdout)
    assert decided["status"] in ("applied", "approved") and decided["workflow_state"] == "active"
    rolled = json.loads(kyra("fixes", "rollback", proposed["id"], "--json").stdout)
    assert rolled["status"] == "rolled_back" and rolled["config_version"] == 3


def test_the_json_logs_of_a_command_are_json(kyra: Kyra, tmp_path: Path) -> None:
    """A command's warnings go out as JSON lines when KYRA_LOG_FORMAT=json."""
    probe = (
        "import logging, sys\n"
        "from kyra.cli import app\n"
        "from kyra.cli.common import kyra_app\n"
        "with kyra_app():\n"
        "    logging.getLogger('kyra.test').warning('careful: %s', 'x')\n"
    )
    env = {**kyra.env, "KYRA_LOG_FORMAT": "json", "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=kyra.root,
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    (line,) = run.stderr.strip().splitlines()
    record = json.loads(line)
    assert record["level"] == "WARNING" and record["logger"] == "kyra.test"
    assert record["message"] == "careful: x"
