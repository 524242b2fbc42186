"""The README's main command: the demo heals two workflows, a person approves a third,
and a credentials failure is left alone."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kyra.cli import app
from kyra.demo.scenario import DESCRIPTIONS
from kyra.i18n import missing_translations
from kyra.store import open_store
from kyra.store import workflows as wf_store
from kyra.store.tenants import get_tenant


def test_demo_heals_and_leaves_credentials_alone(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--keep", str(tmp_path)], env={"KYRA_LANG": "en"})
    assert result.exit_code == 0, result.output
    assert "repaired" in result.stdout and "needs attention" in result.stdout
    store = open_store(f"sqlite:///{tmp_path / 'kyra-demo.db'}")
    try:
        tenant = get_tenant(store, "demo")
        states = {
            r.name: (r.state, r.config_version) for r in wf_store.list_workflows(store, tenant.id)
        }
    finally:
        store.close()
    assert states == {
        "gmail-digest": ("active", 2),
        "invoice-sync": ("active", 2),
        "crm-sync": ("needs_attention", 1),
        "lead-capture": ("active", 2),
    }


def test_the_spanish_demo_speaks_only_spanish(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--keep", str(tmp_path)], env={"KYRA_LANG": "es"})
    assert result.exit_code == 0, result.output
    assert missing_translations(DESCRIPTIONS) == []
    for name, texts in DESCRIPTIONS.items():
        header = next(line for line in result.stdout.splitlines() if f"{name} —" in line)
        assert texts["es"][:30] in header and texts["en"][:30] not in result.stdout
    assert "reparado" in result.stdout and "repaired" not in result.stdout
