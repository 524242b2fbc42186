"""Proposals that ask for what only a person knows (#14 item 5), through the real CLI
against the fault server: no empty default, candidates from the workflow's inputs, an
earlier step's output and the error text, approval without a value refused (exit 2)."""

from __future__ import annotations

import json

from kyra.demo import FaultServer
from tests.cli.conftest import Kyra


def _flow(kyra: Kyra, url: str, inputs: str = "{}", before: str = "") -> str:
    kyra.write(
        "crm.yaml",
        f"""\
name: crm
inputs: {inputs}
steps:
{before}  - name: upsert
    action: http_request
    with:
      url: "{url}"
      method: POST
      json: {{name: Ana}}
""",
    )
    assert kyra("workflows", "apply", "crm.yaml").exit_code == 0
    assert kyra("run", "crm").exit_code != 0
    [fix] = json.loads(kyra("fixes", "list", "--json").stdout)
    assert (fix["status"], fix["error_class"]) == ("proposed", "missing_required_field")
    return str(fix["id"])


def test_nothing_known_asks_for_the_value_and_refuses_an_empty_approval(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    fix_id = _flow(kyra, f"{fault_server.url}/require?fields=email")
    shown = json.loads(kyra("fixes", "show", fix_id, "--json").stdout)
    assert shown["patch"][0]["value"] is None  # never "" again
    assert (shown["value_needed"], shown["candidates"]) == ("json.email", [])
    assert "only a person knows its value" in shown["reason"]
    text = kyra("fixes", "show", fix_id).stdout
    assert f"kyra fixes approve {fix_id[:8]} --value ..." in text

    refused = kyra("fixes", "approve", fix_id)
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert len(refused.stderr.strip().splitlines()) == 1
    assert f"kyra fixes approve {fix_id[:8]} --value" in refused.stderr
    es = kyra("fixes", "approve", fix_id, "--value", "", lang="es")
    assert es.exit_code == 2 and "solo tú conoces" in es.stderr
    still = json.loads(kyra("fixes", "show", fix_id, "--json").stdout)
    assert still["status"] == "proposed" and still["to_version"] is None
    assert json.loads(kyra("workflows", "show", "crm", "--json").stdout)["config_version"] == 1

    approved = kyra("fixes", "approve", fix_id, "--value", "ana@example.com", "--json")
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["workflow_state"] == "active"


def test_candidates_from_inputs_and_the_allowed_values_of_the_error(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    fix_id = _flow(
        kyra,
        f"{fault_server.url}/require?fields=plan&allowed=basic,pro",
        inputs="{plan: pro}",
    )
    shown = json.loads(kyra("fixes", "show", fix_id, "--json").stdout)
    assert [(c["value"], c["source"]) for c in shown["candidates"]] == [
        ("pro", "inputs.plan"),
        ("basic", "error"),
    ]
    assert shown["patch"][0]["value"] == "pro" and shown["value_needed"] is None
    text = kyra("fixes", "show", fix_id, lang="es").stdout
    assert "Valores candidatos" in text and "inputs.plan" in text
    approved = kyra("fixes", "approve", fix_id, "--json")  # as shown: a real value
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["workflow_state"] == "active"


def test_a_candidate_from_an_earlier_steps_output(kyra: Kyra, fault_server: FaultServer) -> None:
    lookup = f"""\
  - name: lookup
    action: http_request
    with:
      url: "{fault_server.url}/ok"
      method: POST
      json: {{contact: {{email: ana@example.com}}}}
"""
    fix_id = _flow(kyra, f"{fault_server.url}/require?fields=email", before=lookup)
    shown = json.loads(kyra("fixes", "show", fix_id, "--json").stdout)
    [candidate] = shown["candidates"]
    assert candidate["value"] == "ana@example.com"
    assert candidate["source"].startswith("steps.lookup.output.")
    assert kyra("fixes", "approve", fix_id).exit_code == 0
