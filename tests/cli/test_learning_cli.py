"""Learning mode on the command line: a fix explained in four parts, in the CLI's own
language, whatever language the diagnosis was made in (one language per output)."""

from __future__ import annotations

import json

from kyra.demo import FaultServer
from tests.cli.conftest import Kyra
from tests.cli.test_healing_cli import _flow

ENGLISH_ONLY = ("A date was sent", "Why this fix", "Step 'call' failed", "normalise ")


def _heal_a_date(kyra: Kyra, fault_server: FaultServer) -> tuple[str, str]:
    _flow(
        kyra,
        "invoices",
        f"{fault_server.url}/dates?format=%Y-%m-%d&field=due",
        '      method: POST\n      json: {due: "{{ inputs.due }}"}\n',
        "{due: '26/11/2026'}",
    )
    result = kyra("run", "invoices")  # the tenant and the CLI speak English here
    assert result.exit_code == 0, result.output
    [fix] = json.loads(kyra("fixes", "list", "--json").stdout)
    return fix["id"], result.stdout


def test_the_timeline_explains_the_fix(kyra: Kyra, fault_server: FaultServer) -> None:
    _, out = _heal_a_date(kyra, fault_server)
    lines = out.splitlines()
    applied = next(i for i, line in enumerate(lines) if "Fix applied" in line)
    lesson = " ".join(lines[applied + 1 : applied + 12])
    for label in ("What broke:", "Why this fix:", "What changed:", "Next time:"):
        assert label in lesson
    assert "Kyra applied it on its own" in lesson and "config v1 → v2" in lesson


def test_a_spanish_cli_reads_an_english_fix_in_spanish(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    fix_id, _ = _heal_a_date(kyra, fault_server)
    shown = json.loads(kyra("fixes", "show", fix_id[:8], "--json", lang="es").stdout)
    explanation = shown["explanation"]
    assert explanation["lang"] == "es"
    assert explanation["what_broke"].startswith("El paso 'call' falló. Se envió una fecha")
    assert "VERDE" in explanation["why_this_fix"]
    assert "config v1 → v2" in explanation["what_changed"]
    assert "ISO 8601" in explanation["how_to_avoid"]
    assert shown["reason"].startswith("normalizar call.json.due")
    # The stored diagnosis keeps its English text for old readers.
    assert shown["diagnosis"]["explanation"].startswith("A date was sent")
    text = kyra("fixes", "show", fix_id[:8], lang="es").stdout
    for label in ("Qué falló", "Por qué este arreglo", "Qué cambió", "La próxima vez"):
        assert label in text
    for english in ENGLISH_ONLY:
        assert english not in text, english
    listed = kyra("fixes", "list", lang="es").stdout
    assert "invoices" in listed
