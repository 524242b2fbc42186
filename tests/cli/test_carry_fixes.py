"""Fixes and user edits live together (#14 item 3): `apply --replace` re-applies Kyra's
applied fixes that still fit the new definition, retires those that do not (status +
audit record), says which in en/es and JSON; `workflows export` prints the healed
definition, which `apply` loads again."""

from __future__ import annotations

import json

import yaml

from kyra.demo import FaultServer
from tests.cli.conftest import Kyra


def _invoices(kyra: Kyra, url: str, body: str, description: str = "bills") -> None:
    kyra.write(
        "invoices.yaml",
        f"""\
name: invoices
description: {description}
inputs: {{due: '26/11/2026'}}
steps:
  - name: call
    action: http_request
    with:
      url: "{url}/dates?format=%Y-%m-%d&field=due"
      method: POST
      json: {body}
""",
    )


def _healed(kyra: Kyra, fault_server: FaultServer) -> dict:
    _invoices(kyra, fault_server.url, '{due: "{{ inputs.due }}", amount: 10}')
    assert kyra("workflows", "apply", "invoices.yaml").exit_code == 0
    assert kyra("run", "invoices").exit_code == 0
    [fix] = json.loads(kyra("fixes", "list", "--json").stdout)
    assert (fix["status"], fix["error_class"]) == ("applied", "invalid_date_format")
    return fix


def _normalisers(kyra: Kyra) -> list:
    shown = json.loads(kyra("workflows", "show", "invoices", "--json").stdout)
    step = shown["config"]["steps"].get("call") or {}
    return step.get("date_normalisers") or []


def test_replace_reapplies_a_fix_that_still_fits(kyra: Kyra, fault_server: FaultServer) -> None:
    fix = _healed(kyra, fault_server)
    _invoices(kyra, fault_server.url, '{due: "{{ inputs.due }}", amount: 12}', "edited")
    result = kyra("workflows", "apply", "invoices.yaml", "--replace")
    assert result.exit_code == 0, result.output
    assert f"Fix {fix['id'][:8]} re-applied on top of your definition" in result.stdout
    assert [n["field"] for n in _normalisers(kyra)] == ["json.due"]
    shown = json.loads(kyra("workflows", "show", "invoices", "--json").stdout)
    history = [(v["version"], v["author"], v["fix_id"]) for v in shown["config_history"]]
    assert history == [
        (1, "user", None),
        (2, "kyra", fix["id"]),
        (3, "user", None),
        (4, "kyra", fix["id"]),
    ]
    after = json.loads(kyra("fixes", "show", fix["id"], "--json").stdout)
    assert after["status"] == "applied"
    # The edited workflow runs with the fix: no new failure, no new fix.
    assert kyra("run", "invoices").exit_code == 0
    assert len(json.loads(kyra("fixes", "list", "--json").stdout)) == 1


def test_replace_retires_a_fix_whose_field_is_gone(kyra: Kyra, fault_server: FaultServer) -> None:
    fix = _healed(kyra, fault_server)
    _invoices(kyra, fault_server.url, "{amount: 12}")
    result = kyra("workflows", "apply", "invoices.yaml", "--replace", "--json")
    assert result.exit_code == 0, result.output
    fixes = json.loads(result.stdout)["fixes"]
    assert fixes["kept"] == []
    [retired] = fixes["retired"]
    assert (retired["fix_id"], retired["reason_key"]) == (fix["id"], "field_gone")
    assert _normalisers(kyra) == []
    after = json.loads(kyra("fixes", "show", fix["id"], "--json").stdout)
    assert after["status"] == "retired" and "json.due" in after["reason"]
    audit = json.loads(kyra("audit", "--json").stdout)
    [record] = [a for a in audit if a["kind"] == "fix_retired"]
    assert record["fix_id"] == fix["id"] and "no longer sent" in record["summary"]


def test_retired_fix_is_reported_in_spanish(kyra: Kyra, fault_server: FaultServer) -> None:
    fix = _healed(kyra, fault_server)
    _invoices(kyra, fault_server.url, "{amount: 12}")
    result = kyra("workflows", "apply", "invoices.yaml", "--replace", lang="es")
    assert result.exit_code == 0, result.output
    assert f"Corrección {fix['id'][:8]} retirada: el workflow ya no envía el campo" in (
        result.stdout
    )
    assert "retired" not in result.stdout


def test_export_prints_the_healed_definition_that_apply_loads(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    fix = _healed(kyra, fault_server)
    exported = kyra("workflows", "export", "invoices")
    assert exported.exit_code == 0, exported.output
    document = yaml.safe_load(exported.stdout)
    assert document["config"]["steps"]["call"]["date_normalisers"][0]["field"] == "json.due"
    assert document["steps"][0]["with"]["json"]["due"] == "{{ inputs.due }}"
    as_json = json.loads(kyra("workflows", "export", "invoices", "--json").stdout)
    assert as_json == document
    kyra.write("healed.yaml", exported.stdout)
    again = kyra("workflows", "apply", "healed.yaml", "--replace", "--json")
    assert again.exit_code == 0, again.output
    saved = json.loads(again.stdout)
    assert saved["config_version"] == 2  # the same config: no new version
    assert [k["fix_id"] for k in saved["fixes"]["kept"]] == [fix["id"]]
    assert kyra("workflows", "export", "nope").exit_code != 0
