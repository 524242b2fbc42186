"""`kyra demo`: a workflow fails and heals itself, on the embedded default, in a minute."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer
from cryptography.fernet import Fernet
from pydantic import SecretStr
from rich.table import Table

from kyra.app import Kyra, create_app
from kyra.cli.common import console, handled, lang, t
from kyra.cli.timeline import ProgressPrinter, cli_healer
from kyra.demo import FaultServer
from kyra.demo.scenario import DEMO_APPROVAL_VALUE, DEMO_WORKFLOWS, DESCRIPTIONS
from kyra.healing.driver import HealingDriver
from kyra.healing.healer import Healer
from kyra.healing.lifecycle import FixStatus
from kyra.i18n import translate
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.db import Store
from kyra.store.tenants import set_tenant
from kyra.workflows.model import Workflow


def register(root: typer.Typer) -> None:
    root.command("demo")(demo)


def demo(
    keep: Path | None = typer.Option(
        None, "--keep", help="Keep the demo database in this folder (default: a temp dir)."
    ),
) -> None:
    """Run four workflows against a local misbehaving API and watch Kyra heal them."""
    with tempfile.TemporaryDirectory() as tmp, handled(), FaultServer() as api:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        settings = Settings(
            database_url=f"sqlite:///{folder / 'kyra-demo.db'}",
            home=folder,
            secret_key=SecretStr(Fernet.generate_key().decode()),
            tenant="demo",
        )
        kyra = create_app(settings)
        try:
            set_tenant(kyra.store, kyra.tenant.name, lang=lang())
            healer = cli_healer(kyra)
            driver = HealingDriver(kyra, healer, [ProgressPrinter()])
            console.rule(t("demo.title"))
            console.print(t("demo.api", url=api.url))
            for doc in DEMO_WORKFLOWS:
                description = translate(DESCRIPTIONS, doc["name"], lang())
                inputs = {**doc.get("inputs", {}), "api": api.url}
                workflow = Workflow.model_validate(
                    {**doc, "description": description, "inputs": inputs}
                )
                record, _ = apply_workflow(kyra, kyra.tenant.id, workflow)
                console.rule(f"[bold]{record.name}[/] — {workflow.description}")
                driver.run(record)
            _approve_proposals(kyra, healer, driver)
            _summary(kyra.store, kyra.tenant.id)
        finally:
            kyra.close()


def _approve_proposals(kyra: Kyra, healer: Healer, driver: HealingDriver) -> None:
    """Play the person who reads the proposal and approves it with a real value."""
    for fix in heal_store.list_fixes(kyra.store, kyra.tenant.id, status=FixStatus.PROPOSED):
        console.rule(t("demo.person", workflow=fix.workflow_name))
        outcome = healer.approve(fix.id, actor="ana@example.com", value=DEMO_APPROVAL_VALUE)
        driver.resume(outcome.rerun_execution_id)


def _summary(store: Store, tenant_id: str) -> None:
    console.rule(t("demo.summary"))
    table = Table(t("col.workflow"), t("col.state"), t("col.config"), t("demo.fix"))
    fixes = {f.workflow_name: f for f in reversed(heal_store.list_fixes(store, tenant_id))}
    for record in wf_store.list_workflows(store, tenant_id):
        fix = fixes.get(record.name)
        label = f"{fix.error_class} → {fix.status}" if fix else "—"
        table.add_row(record.name, record.state, f"v{record.config_version}", label)
    console.print(table)
    console.print(t("demo.next"))
