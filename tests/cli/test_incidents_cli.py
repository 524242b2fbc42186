"""`kyra incidents list|show`: two workflows failing on one host are one incident with
the host as the common cause; a later success there resolves it."""

from __future__ import annotations

import json

from kyra.demo import FaultServer
from tests.cli.conftest import Kyra


def _flow(kyra: Kyra, name: str, url: str) -> None:
    kyra.write(
        f"{name}.yaml",
        f"name: {name}\nsteps:\n  - name: call\n    action: http_request\n"
        f'    with:\n      url: "{url}"\n',
    )
    assert kyra("workflows", "apply", f"{name}.yaml").exit_code == 0


def test_incidents_list_and_show(kyra: Kyra, fault_server: FaultServer) -> None:
    host = fault_server.url.split("//")[1]
    assert json.loads(kyra("incidents", "list", "--json").stdout) == []
    for name in ("billing", "crm"):
        _flow(kyra, name, f"{fault_server.url}/status/503")
        assert kyra("run", name).exit_code != 0
    [listed] = json.loads(kyra("incidents", "list", "--json").stdout)
    assert listed["status"] == "open"
    assert listed["common_cause"] == {"kind": "host", "host": host}
    assert listed["workflows"] == ["billing", "crm"]
    shown = json.loads(kyra("incidents", "show", listed["id"][:8], "--json").stdout)
    assert {f["workflow"] for f in shown["failures"]} == {"billing", "crm"}
    assert all(f["error"].startswith("HTTP 503") for f in shown["failures"])
    text = kyra("incidents", "show", listed["id"][:8], lang="es").stdout
    assert f"Causa común: el host {host}" in text

    _flow(kyra, "status", f"{fault_server.url}/ok")
    assert kyra("run", "status").exit_code == 0
    [resolved] = json.loads(kyra("incidents", "list", "--status", "resolved", "--json").stdout)
    assert resolved["id"] == listed["id"] and resolved["resolved_at"] is not None
    assert json.loads(kyra("incidents", "list", "--status", "open", "--json").stdout) == []


def test_bad_incident_input_is_one_line_and_exit_2(kyra: Kyra) -> None:
    missing = kyra("incidents", "show", "abcdef12")
    assert missing.exit_code == 2 and "no incident" in missing.stderr
    assert "Traceback" not in missing.output
    wrong = kyra("incidents", "list", "--status", "closed")
    assert wrong.exit_code == 2
