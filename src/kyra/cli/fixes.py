"""`kyra fixes list|show|approve|retry|reject|rollback`, `kyra audit`, `kyra killswitch`."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from kyra.cli.asking import print_ask, refuse_without_value
from kyra.cli.common import ago, console, kyra_app, lang, print_json, t
from kyra.healing.explain import explain_fix, remedy_text
from kyra.healing.lifecycle import REMEDY_KINDS, AuditKind, FixStatus
from kyra.healing.reasons import diagnosis_text
from kyra.i18n import Lang
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.healing import GLOBAL_SCOPE, FixInfo

app = typer.Typer(
    help="Fixes Kyra applied or proposes. / Reparaciones aplicadas o propuestas.",
    no_args_is_help=True,
)
killswitch_app = typer.Typer(
    help="Stop every automatic change at once. / Detener todo cambio automático.",
    no_args_is_help=True,
)

STATUS_STYLE = {
    FixStatus.APPLIED: "green",
    FixStatus.APPROVED: "green",
    FixStatus.PROPOSED: "yellow",
    FixStatus.REJECTED: "dim",
    FixStatus.ROLLED_BACK: "magenta",
    FixStatus.BLOCKED: "red",
    FixStatus.SUPERSEDED: "dim",
    FixStatus.FAILED: "red",
    FixStatus.RETIRED: "dim",
}


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="fixes")
    root.add_typer(killswitch_app, name="killswitch")
    root.command("audit")(audit)


def fix_json(fix: FixInfo) -> dict[str, Any]:
    return {
        "id": fix.id,
        "workflow": fix.workflow_name,
        "error_class": fix.error_class,
        "safety": fix.safety,
        "status": fix.status,
        "reason": fix.reason,
        "diff": fix.diff.get("changes", []),
        "patch": fix.patch.get("ops", []),
        "confidence": fix.confidence,
        "tier": fix.tier,
        "outcome": fix.outcome,
        "from_version": fix.from_version,
        "to_version": fix.to_version,
        "execution_id": fix.execution_id,
        "rerun_execution_id": fix.rerun_execution_id,
        "cost": fix.cost,
        "decided_by": fix.decided_by,
        "created_at": fix.created_at.isoformat(),
        "verified_at": fix.verified_at.isoformat() if fix.verified_at else None,
    }


def _diff_text(fix: FixInfo) -> str:
    return "; ".join(
        f"{c['path']}: {json.dumps(c['before'])} → {json.dumps(c['after'])}"
        for c in fix.diff.get("changes", [])
    )


@app.command("list")
def list_(
    workflow: str | None = typer.Option(None, "--workflow", "-w", help="Only this workflow."),
    status: str | None = typer.Option(None, "--status", "-s", help="Only this status."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List fixes, newest first, with their diff."""
    with kyra_app() as kyra:
        workflow_id = (
            wf_store.get_workflow(kyra.store, kyra.tenant.id, workflow).id if workflow else None
        )
        fixes = heal_store.list_fixes(
            kyra.store, kyra.tenant.id, workflow_id=workflow_id, status=status, limit=limit
        )
        now = kyra.clock.now()
    if as_json:
        print_json([fix_json(f) for f in fixes])
        return
    if not fixes:
        console.print(t("fix.none"))
        return
    language = lang()
    table = Table(
        t("col.id"),
        t("col.workflow"),
        t("fix.class"),
        t("col.status"),
        t("fix.change"),
        t("col.when"),
    )
    for f in fixes:
        style = STATUS_STYLE.get(f.status, "")
        table.add_row(
            f.id[:8],
            f.workflow_name,
            f"{f.error_class} ({f.safety})",
            f"[{style}]{f.status}[/]",
            (_diff_text(f) or remedy_text(f, language))[:120],
            ago((now - f.created_at).total_seconds()),
        )
    console.print(table)


@app.command("show")
def show(
    fix_id: str = typer.Argument(..., help="Fix id (or a unique prefix)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one fix: diagnosis, patch, diff and audit trail."""
    from kyra.healing.asking import ask_of

    with kyra_app() as kyra:
        fix = heal_store.get_fix(kyra.store, fix_id, tenant_id=kyra.tenant.id)
        trail = heal_store.list_audit(kyra.store, kyra.tenant.id, fix_id=fix.id)
        ask = ask_of(kyra.store, fix)
    language = lang()
    data = {
        **fix_json(fix),
        **ask.as_dict(),
        "reason": remedy_text(fix, language),
        "diagnosis": fix.diagnosis,
        "explanation": explain_fix(fix, language).to_json(),
        "audit": [
            {
                "kind": a.kind,
                "actor": a.actor,
                "summary": remedy_text(fix, language) if a.kind in REMEDY_KINDS else a.summary,
                "at": a.created_at.isoformat(),
            }
            for a in reversed(trail)
        ],
    }
    if as_json:
        print_json(data)
        return
    _print_fix(fix, data["audit"], language)
    print_ask(fix, ask)


def _print_fix(fix: FixInfo, trail: list[dict[str, Any]], language: Lang) -> None:
    """One fix for a person: what broke, what Kyra concluded, what changed, who did what."""
    style = STATUS_STYLE.get(fix.status, "")
    console.print(
        f"[bold]{t('fix.title', fix=fix.id[:8], workflow=fix.workflow_name)}[/]  "
        f"[{style}]{fix.status}[/]"
    )
    rows = [
        (t("fix.class"), f"{fix.error_class} ({fix.safety}, {fix.confidence}%, {fix.tier})"),
        (t("col.step"), fix.step_name or "-"),
        (t("fix.reason"), remedy_text(fix, language) or "-"),
        (t("fix.explanation"), diagnosis_text(fix.diagnosis, language) or "-"),
        (t("fix.versions"), _versions(fix)),
        (t("fix.outcome"), fix.outcome or "-"),
        (t("fix.decided_by"), fix.decided_by or "-"),
        (t("fix.executions"), f"{fix.execution_id or '-'} → {fix.rerun_execution_id or '-'}"),
        (t("col.when"), fix.created_at.strftime("%Y-%m-%d %H:%M:%S")),
    ]
    facts = Table.grid(padding=(0, 2))
    for label, value in rows:
        facts.add_row(f"[dim]{label}[/]", value)
    console.print(facts)
    changes = fix.diff.get("changes", [])
    if changes:
        table = Table(t("fix.path"), t("fix.before"), t("fix.after"), title=t("fix.change"))
        for c in changes:
            table.add_row(str(c.get("path", "")), _value(c.get("before")), _value(c.get("after")))
        console.print(table)
    lesson = Table.grid(padding=(0, 2))
    for label, text in explain_fix(fix, language).sections():
        lesson.add_row(f"[bold]{label}[/]", text)
    console.print(lesson)
    if trail:
        table = Table(t("col.when"), t("audit.kind"), t("audit.actor"), t("audit.summary"))
        for a in trail:
            table.add_row(str(a["at"])[:19].replace("T", " "), a["kind"], a["actor"], a["summary"])
        console.print(table)


def _versions(fix: FixInfo) -> str:
    if fix.from_version is None and fix.to_version is None:
        return "-"
    return f"v{fix.from_version or '-'} → v{fix.to_version or '-'}"


def _value(value: Any) -> str:
    return "-" if value is None else json.dumps(value, ensure_ascii=False)


@app.command("approve")
def approve(
    fix_id: str = typer.Argument(..., help="Fix id (or a unique prefix)."),
    value: str | None = typer.Option(
        None, "--value", help="Use this value instead (JSON or text)."
    ),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Run the re-run now and wait."),
    as_json: bool = typer.Option(False, "--json", help="Print the fix as JSON."),
) -> None:
    """Apply a proposed fix as a new config version and re-run from the failed step."""
    from kyra.cli.timeline import ProgressPrinter, cli_healer
    from kyra.healing.driver import HealingDriver

    parsed: Any = None
    if value is not None:
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value
    with kyra_app() as kyra:
        refuse_without_value(kyra, fix_id, parsed)
        healer = cli_healer(kyra, show=not as_json)
        outcome = healer.approve(fix_id, value=parsed, tenant_id=kyra.tenant.id)
        if wait:
            printers = [] if as_json else [ProgressPrinter()]
            HealingDriver(kyra, healer, printers).resume(outcome.rerun_execution_id)
        state = wf_store.get_workflow_by_id(kyra.store, outcome.workflow_id or "").state
        fix = heal_store.get_fix(kyra.store, outcome.fix_id or "", tenant_id=kyra.tenant.id)
    if as_json:
        print_json({**fix_json(fix), "workflow_state": state})
        return
    console.print(t("fix.approved", fix=(outcome.fix_id or "")[:8], state=state))


@app.command("retry")
def retry(
    fix_id: str = typer.Argument(..., help="A blocked fix's id (or a unique prefix)."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Run the re-run now and wait."),
    as_json: bool = typer.Option(False, "--json", help="Print the fix as JSON."),
) -> None:
    """Heal a blocked fix's failure again once its cause is gone (kill switch off,
    quota or cooldown passed); refused while the gate still blocks it."""
    from kyra.cli.timeline import ProgressPrinter, cli_healer
    from kyra.healing.driver import HealingDriver
    from kyra.healing.retry import retry_blocked

    with kyra_app() as kyra:
        healer = cli_healer(kyra, show=not as_json)
        outcome = retry_blocked(healer, fix_id, tenant_id=kyra.tenant.id)
        if wait and outcome.rerun_execution_id:
            printers = [] if as_json else [ProgressPrinter()]
            HealingDriver(kyra, healer, printers).resume(outcome.rerun_execution_id)
        state = wf_store.get_workflow_by_id(kyra.store, outcome.workflow_id or "").state
        old = heal_store.get_fix(kyra.store, fix_id, tenant_id=kyra.tenant.id)
        fix = heal_store.get_fix(kyra.store, outcome.fix_id or old.id, tenant_id=kyra.tenant.id)
    if as_json:
        print_json(
            {
                **fix_json(fix),
                "retried_fix": old.id,
                "action": outcome.action,
                "workflow_state": state,
            }
        )
        return
    console.print(t("fix.retried", fix=old.id[:8], action=outcome.action, state=state))


@app.command("reject")
def reject(
    fix_id: str = typer.Argument(..., help="Fix id (or a unique prefix)."),
    reason: str = typer.Option("", "--reason", help="Why (kept in the audit trail)."),
    as_json: bool = typer.Option(False, "--json", help="Print the fix as JSON."),
) -> None:
    """Reject a proposed fix; nothing changes and the workflow keeps needing attention."""
    from kyra.cli.timeline import cli_healer

    with kyra_app() as kyra:
        fix = cli_healer(kyra, show=False).reject(fix_id, reason=reason, tenant_id=kyra.tenant.id)
    if as_json:
        print_json(fix_json(fix))
        return
    console.print(t("fix.rejected", fix=fix.id[:8]))


@app.command("rollback")
def rollback(
    fix_id: str = typer.Argument(..., help="Fix id (or a unique prefix)."),
    reason: str = typer.Option("", "--reason", help="Why (kept in the audit trail)."),
    as_json: bool = typer.Option(False, "--json", help="Print the fix as JSON."),
) -> None:
    """Restore the config from before a fix, as a new config version."""
    from kyra.cli.timeline import cli_healer

    with kyra_app() as kyra:
        fix = cli_healer(kyra, show=False).rollback(fix_id, reason=reason, tenant_id=kyra.tenant.id)
        version = wf_store.get_workflow_by_id(kyra.store, fix.workflow_id).config_version
    if as_json:
        print_json({**fix_json(fix), "config_version": version})
        return
    console.print(t("fix.rolled_back", fix=fix.id[:8], version=version))


def audit(
    workflow: str | None = typer.Option(None, "--workflow", "-w", help="Only this workflow."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=5000),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The audit trail: every diagnosis, fix, approval, rejection and rollback."""
    with kyra_app() as kyra:
        workflow_id = (
            wf_store.get_workflow(kyra.store, kyra.tenant.id, workflow).id if workflow else None
        )
        records = heal_store.list_audit(
            kyra.store, kyra.tenant.id, workflow_id=workflow_id, limit=limit
        )
    if as_json:
        print_json(
            [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "actor": r.actor,
                    "workflow": r.workflow_name,
                    "fix_id": r.fix_id,
                    "execution_id": r.execution_id,
                    "summary": r.summary,
                    "details": r.details,
                    "cost": r.cost,
                    "at": r.created_at.isoformat(),
                }
                for r in records
            ]
        )
        return
    table = Table(
        t("col.when"), t("audit.kind"), t("audit.actor"), t("col.workflow"), t("audit.summary")
    )
    for r in records:
        table.add_row(
            r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.kind,
            r.actor,
            r.workflow_name or "",
            r.summary[:160],
        )
    console.print(table)


@killswitch_app.command("on")
def killswitch_on(
    all_tenants: bool = typer.Option(False, "--global", help="For every tenant."),
    reason: str = typer.Option("", "--reason", help="Why (shown with every blocked fix)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Stop every automatic change now, including fixes in flight."""
    from kyra.cli.timeline import cli_healer

    with kyra_app() as kyra:
        scope = GLOBAL_SCOPE if all_tenants else kyra.tenant.id
        heal_store.set_kill_switch(kyra.store, scope, enabled=True, reason=reason)
        heal_store.add_audit(
            kyra.store,
            kind=AuditKind.KILLSWITCH,
            actor="user",
            tenant_id=None if all_tenants else kyra.tenant.id,
            summary=f"kill switch on ({'global' if all_tenants else 'tenant'})"
            + (f": {reason}" if reason else ""),
        )
        stopped = cli_healer(kyra, show=False).stop_all(None if all_tenants else kyra.tenant.id)
    if as_json:
        print_json({**_switch_json(True, all_tenants, reason), "stopped_fixes": stopped})
        return
    console.print(t("kill.on", count=len(stopped)))


@killswitch_app.command("off")
def killswitch_off(
    all_tenants: bool = typer.Option(False, "--global", help="The global switch."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Allow automatic fixes again."""
    with kyra_app() as kyra:
        scope = GLOBAL_SCOPE if all_tenants else kyra.tenant.id
        heal_store.set_kill_switch(kyra.store, scope, enabled=False)
        heal_store.add_audit(
            kyra.store,
            kind=AuditKind.KILLSWITCH,
            actor="user",
            tenant_id=None if all_tenants else kyra.tenant.id,
            summary=f"kill switch off ({'global' if all_tenants else 'tenant'})",
        )
    if as_json:
        print_json(_switch_json(False, all_tenants, ""))
        return
    console.print(t("kill.off"))


def _switch_json(enabled: bool, all_tenants: bool, reason: str) -> dict[str, Any]:
    return {"enabled": enabled, "scope": "global" if all_tenants else "tenant", "reason": reason}


@killswitch_app.command("status")
def killswitch_status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show whether automatic changes are stopped."""
    with kyra_app() as kyra:
        active = heal_store.active_kill_switch(kyra.store, kyra.tenant.id)
    if as_json:
        print_json(
            {
                "enabled": active is not None,
                "scope": None
                if active is None
                else ("global" if active.scope == GLOBAL_SCOPE else "tenant"),
                "reason": active.reason if active else "",
            }
        )
        return
    console.print(t("kill.on_status") if active else t("kill.off_status"))
