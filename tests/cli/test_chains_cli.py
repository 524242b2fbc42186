"""An error chain on the command line: the timeline (en/es) names the step that returned
the bad value, and `kyra executions show --json` carries it under `diagnosis`."""

from __future__ import annotations

import json

import pytest

from kyra.demo import FaultServer
from tests.cli.conftest import Kyra
from tests.servers.webhook import CannedReply, WebhookReceiver


@pytest.mark.parametrize(
    ("lang", "marker"),
    [("en", "Root cause: step 'lookup'"), ("es", "Causa raíz: el paso 'lookup'")],
)
def test_the_timeline_and_the_execution_name_the_root_cause(
    kyra: Kyra,
    fault_server: FaultServer,
    webhook_receiver: WebhookReceiver,
    lang: str,
    marker: str,
) -> None:
    webhook_receiver.default_reply = CannedReply(200, "[]", "application/json")
    kyra.write(
        "orders.yaml",
        f"""\
name: orders
steps:
  - name: lookup
    action: http_request
    with:
      url: "{webhook_receiver.url}/orders"
  - name: ship
    action: http_request
    with:
      url: "{fault_server.url}/ok"
      method: POST
      json: {{sku: "{{{{ steps.lookup.output.json[0].sku }}}}"}}
""",
    )
    assert kyra("workflows", "apply", "orders.yaml").exit_code == 0
    assert kyra("tenants", "set", "default", "--lang", lang).exit_code == 0
    run = kyra("run", "orders", lang=lang)
    assert run.exit_code != 0
    assert marker in run.stdout
    executions = json.loads(kyra("executions", "list", "--json").stdout)
    shown = json.loads(kyra("executions", "show", executions[-1]["id"], "--json").stdout)
    assert shown["failed_step"] == "ship"
    assert shown["diagnosis"]["root_cause"] == {
        "step": "lookup",
        "path": "steps.lookup.output.json",
        "reason": "empty",
        "found": "list",
        "field": "json.sku",
    }
    text = kyra("executions", "show", executions[-1]["id"], lang=lang).stdout
    assert ("Root cause" if lang == "en" else "Causa raíz") in text
