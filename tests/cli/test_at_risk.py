"""`kyra status` shows the workflow steps at risk, and the proactive fix is a proposal
like any other (`kyra fixes list`)."""

from __future__ import annotations

import json

from kyra.demo import FaultServer
from tests.cli.conftest import Kyra


def test_status_lists_a_step_nearing_its_timeout(kyra: Kyra, fault_server: FaultServer) -> None:
    # Every call takes 83 % of the timeout, 0.5 s clear of it: with a 0.1 s margin (0.4 s
    # of 0.5 s) one call past the timeout on a loaded machine was healed (timeout raised,
    # the history rescaled below 80 %) and nothing was at risk any more.
    kyra.write(
        "near.yaml",
        f"""\
name: near
config: {{timeout: 3, retry: {{max_retries: 0}}}}
steps:
  - name: call
    action: http_request
    with:
      url: "{fault_server.url}/slow?delay=2.5"
""",
    )
    assert kyra("workflows", "apply", "near.yaml").exit_code == 0
    assert json.loads(kyra("status", "--json").stdout)["at_risk"] == []
    for _ in range(8):
        assert kyra("run", "near").exit_code == 0
    [entry] = json.loads(kyra("status", "--json").stdout)["at_risk"]
    assert (entry["workflow"], entry["kind"], entry["subject"]) == ("near", "latency", "call")
    assert "of its 3.0 s timeout" in entry["reason"] and entry["since"]
    [spanish] = json.loads(kyra("status", "--json", lang="es").stdout)["at_risk"]
    assert "de su timeout de 3.0 s" in spanish["reason"]
    [fix] = json.loads(kyra("fixes", "list", "--json", "--status", "proposed").stdout)
    assert entry["reason_params"]["fix"] == fix["id"][:8]
    assert "3 s → 6 s" in fix["reason"]
    text = kyra("status").stdout
    assert "At risk" in text and "near" in text
