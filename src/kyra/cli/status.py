"""`kyra status`: what is running, queued and scheduled next, and worker health."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from kyra.app import Kyra
from kyra.cli.common import ago, console, kyra_app, lang, print_json
from kyra.i18n import Catalog, translate
from kyra.predict.risk import Risk, active_risks
from kyra.runtime.status import RuntimeStatus, runtime_status
from kyra.store import fleet as fleet_store
from kyra.store.queue import QueuedExecution

MESSAGES: Catalog = {
    "status.counts": {
        "en": "Executions: {running} running, {queued} queued, {waiting} waiting (delayed).",
        "es": "Ejecuciones: {running} en curso, {queued} en cola, {waiting} en espera (diferidas).",
    },
    "status.running": {"en": "Running", "es": "En curso"},
    "status.queued": {"en": "Queued next", "es": "Siguientes en cola"},
    "status.upcoming": {"en": "Scheduled next", "es": "Próximos disparos"},
    "status.workers": {"en": "Workers", "es": "Workers"},
    "status.no_workers": {
        "en": "No runtime process has reported in the last hour: start `kyra serve` "
        "(or `kyra worker` and `kyra scheduler`).",
        "es": "Ningún proceso del runtime ha informado en la última hora: arranca `kyra serve` "
        "(o `kyra worker` y `kyra scheduler`).",
    },
    "status.healthy": {"en": "healthy", "es": "sano"},
    "status.stopped": {"en": "stopped", "es": "detenido"},
    "status.silent": {"en": "silent for {ago}", "es": "sin señal hace {ago}"},
    "when.in": {"en": "in {ago}", "es": "en {ago}"},
    "when.due": {"en": "due {ago} ago", "es": "pendiente hace {ago}"},
    "when.running": {"en": "for {ago}", "es": "desde hace {ago}"},
    "when.lease_expired": {
        "en": "{owner} (lease expired {ago} ago)",
        "es": "{owner} (concesión vencida hace {ago})",
    },
    "col.id": {"en": "ID", "es": "ID"},
    "col.workflow": {"en": "Workflow", "es": "Workflow"},
    "col.status": {"en": "Status", "es": "Estado"},
    "col.trigger": {"en": "Trigger", "es": "Disparador"},
    "col.when": {"en": "When", "es": "Cuándo"},
    "col.owner": {"en": "Held by", "es": "Tomada por"},
    "col.kind": {"en": "Kind", "es": "Tipo"},
    "col.process": {"en": "Process", "es": "Proceso"},
    "col.load": {"en": "Running/processed", "es": "En curso/procesadas"},
    "col.health": {"en": "Health", "es": "Salud"},
    "status.hosts": {
        "en": "Upstream hosts (learned across workflows)",
        "es": "Servicios remotos (aprendido entre workflows)",
    },
    "status.at_risk": {
        "en": "At risk (likely to fail soon)",
        "es": "En riesgo (probablemente fallen pronto)",
    },
    "col.reason": {"en": "Reason", "es": "Motivo"},
    "col.since": {"en": "Since", "es": "Desde"},
    "col.host": {"en": "Host", "es": "Host"},
    "col.pace": {"en": "Pacing", "es": "Ritmo"},
    "col.circuit": {"en": "Circuit", "es": "Circuito"},
    "col.openings": {"en": "Openings", "es": "Aperturas"},
    "col.scope": {"en": "Scope", "es": "Ámbito"},
    "col.learned": {"en": "Learned from", "es": "Aprendido de"},
    "pace.none": {"en": "not paced", "es": "sin ritmo"},
    "pace.rate": {"en": "{rate:.3g} req/s", "es": "{rate:.3g} pet./s"},
    "pace.blocked": {"en": "blocked {seconds:.0f} s", "es": "bloqueado {seconds:.0f} s"},
    "fleet.reset": {
        "en": "Forgot {n} learned limit(s) and circuit(s){where}.",
        "es": "Olvidados {n} límite(s) y circuito(s) aprendidos{where}.",
    },
    "fleet.where": {"en": " for {host}", "es": " de {host}"},
    "circuit.closed": {"en": "closed", "es": "cerrado"},
    "circuit.open": {"en": "open", "es": "abierto"},
    "circuit.half_open": {"en": "half open", "es": "semiabierto"},
    "learned.429 answers": {"en": "429 answers", "es": "respuestas 429"},
}


def t(key: str, **values: object) -> str:
    return translate(MESSAGES, key, lang(), **values)


def register(root: typer.Typer) -> None:
    root.command("status")(status)
    fleet = typer.Typer(
        help="What Kyra learned about upstream limits and outages, per host and scope.",
        no_args_is_help=True,
    )
    fleet.command("reset")(fleet_reset)
    root.add_typer(fleet, name="fleet")


def status(
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
    limit: int = typer.Option(10, "--limit", "-n", min=1, help="Rows per section."),
) -> None:
    """Show running and queued executions, upcoming triggers, worker health, the
    workflows at risk, and the rate limits and circuits learned per upstream host and
    scope."""
    with kyra_app() as app:
        report = runtime_status(app, app.settings.runtime, limit=limit)
        hosts = host_status(app)
        risks = active_risks(app.store, app.tenant.id)
    if as_json:
        at_risk = [r.to_json(lang()) for r in risks]
        print_json({**status_json(report), "at_risk": at_risk, "hosts": hosts})
    else:
        render(report)
        render_risks(risks, report.at)
        render_hosts(hosts)


def fleet_reset(
    host: str | None = typer.Argument(None, help="Only this host (as `kyra status` shows it)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Forget learned pacing, quota waits and circuits (of one host, or all), now: running
    `kyra serve` processes drop them at their next sync (about a second)."""
    with kyra_app() as app:
        cleared = fleet_store.reset(app.store, app.tenant.id, host)
    if as_json:
        print_json({"cleared": cleared, "host": host})
    else:
        where = t("fleet.where", host=host) if host else ""
        console.print(t("fleet.reset", n=cleared, where=where))


def host_status(app: Kyra) -> list[dict[str, Any]]:
    """What the fleet learned about each upstream host and scope: pacing and circuits."""
    now = app.clock.now().timestamp()
    rows = []
    for s in fleet_store.scopes(app.store, app.tenant.id):
        rows.append(
            {
                "host": s.host,
                "scope": s.scope,
                "rate_per_second": s.rate,
                "source": s.source,
                "reason": s.reason,
                "blocked_for_seconds": round(max(0.0, s.blocked_until - now), 3) or None,
                "block_reason": s.block_reason or None,
                "rate_limited": s.rate_limited,
                "circuit": s.circuit,
                "circuit_reason": s.circuit_reason or None,
                "circuit_openings": s.openings,
                "probe_in_seconds": round(max(0.0, s.circuit_retry_at - now), 3)
                if s.circuit != "closed"
                else None,
            }
        )
    return rows


def render_risks(risks: list[Risk], now: datetime) -> None:
    if not risks:
        return
    table = Table(
        t("col.workflow"),
        t("col.kind"),
        t("col.reason"),
        t("col.since"),
        title=t("status.at_risk"),
        title_justify="left",
    )
    for r in risks:
        since = ago(max(0.0, (now - r.since).total_seconds()))
        table.add_row(escape(r.workflow), r.kind, escape(r.reason.text(lang())), since)
    console.print(table)


def render_hosts(hosts: list[dict[str, Any]]) -> None:
    if not hosts:
        return
    table = Table(
        t("col.host"),
        t("col.scope"),
        t("col.pace"),
        t("col.learned"),
        "429",
        t("col.circuit"),
        t("col.openings"),
        title=t("status.hosts"),
        title_justify="left",
    )
    for column in table.columns[:2]:  # a host's port and a scope are read whole
        column.overflow = "fold"
    styles = {"closed": "green", "open": "bold red", "half_open": "yellow"}
    for h in hosts:
        state = h["circuit"]
        probe = f" ({h['probe_in_seconds']:.0f}s)" if h["probe_in_seconds"] else ""
        pace = t("pace.rate", rate=h["rate_per_second"]) if h["rate_per_second"] else t("pace.none")
        if h["blocked_for_seconds"]:
            pace += ", " + t("pace.blocked", seconds=h["blocked_for_seconds"])
        table.add_row(
            h["host"],
            h["scope"],
            pace,
            _words("learned.", h["source"]),
            str(h["rate_limited"]),
            f"[{styles.get(state, '')}]{_words('circuit.', state)}[/]{probe}",
            str(h["circuit_openings"]),
        )
    console.print(table)


def _words(prefix: str, value: str) -> str:
    """A value in the reader's language where it is words ("429 answers", "open"); a
    header family's name is the same in every language."""
    key = prefix + value
    return t(key) if key in MESSAGES else value


def status_json(report: RuntimeStatus) -> dict[str, Any]:
    def execution(e: Any) -> dict[str, Any]:
        return {
            "id": e.id,
            "workflow": e.workflow_name,
            "status": e.status,
            "trigger": e.trigger,
            "run_at": e.run_at.isoformat(),
            "lease_owner": e.lease_owner,
            "claims": e.claims,
        }

    return {
        "at": report.at.isoformat(),
        "healthy": report.healthy,
        "counts": {k: report.counts.get(k, 0) for k in ("running", "queued", "waiting")},
        "running": [execution(e) for e in report.running],
        "queued": [execution(e) for e in report.queued],
        "upcoming": [
            {"workflow": u.workflow_name, "next_fire_at": u.next_fire_at.isoformat()}
            for u in report.upcoming
        ],
        "workers": [
            {
                "id": w.beat.id,
                "kind": w.beat.kind,
                "pid": w.beat.pid,
                "running": w.beat.running,
                "processed": w.beat.processed,
                "healthy": w.healthy,
                "last_seen": w.beat.last_seen.isoformat(),
            }
            for w in report.workers
        ],
    }


def when(e: QueuedExecution, now: datetime) -> str:
    """Words, not a signed offset ("-4m" read as a time in the past for a run that was
    still going): how long it has run, or when it is due."""
    seconds = (e.run_at - now).total_seconds()
    if e.status == "running":
        return t("when.running", ago=ago(max(0.0, -seconds)))
    return t("when.in", ago=ago(seconds)) if seconds > 0 else t("when.due", ago=ago(-seconds))


def holder(e: QueuedExecution, now: datetime) -> str:
    """The lease owner, flagged when its lease ran out (a dead process not yet reclaimed)."""
    if e.lease_owner is None or e.lease_until is None or e.lease_until >= now:
        return e.lease_owner or ""
    expired = ago((now - e.lease_until).total_seconds())
    return t("when.lease_expired", owner=e.lease_owner, ago=expired)


def render(report: RuntimeStatus) -> None:
    c = report.counts
    console.print(
        t(
            "status.counts",
            running=c.get("running", 0),
            queued=c.get("queued", 0),
            waiting=c.get("waiting", 0),
        )
    )
    now = report.at
    for title, rows in ((t("status.running"), report.running), (t("status.queued"), report.queued)):
        if not rows:
            continue
        table = Table(title=title, title_justify="left")
        for col in ("col.id", "col.workflow", "col.status", "col.trigger", "col.when", "col.owner"):
            table.add_column(t(col))
        for e in rows:
            table.add_row(
                e.id[:8], e.workflow_name, e.status, e.trigger, when(e, now), holder(e, now)
            )
        console.print(table)
    if report.upcoming:
        table = Table(title=t("status.upcoming"), title_justify="left")
        table.add_column(t("col.workflow"))
        table.add_column(t("col.when"))
        for u in report.upcoming:
            table.add_row(
                u.workflow_name,
                f"{u.next_fire_at:%Y-%m-%d %H:%M:%S} UTC (+"
                + ago(max(0.0, (u.next_fire_at - now).total_seconds()))
                + ")",
            )
        console.print(table)
    if not report.workers:
        console.print(t("status.no_workers"))
        return
    table = Table(title=t("status.workers"), title_justify="left")
    for col in ("col.kind", "col.process", "col.load", "col.health"):
        table.add_column(t(col))
    for w in report.workers:
        if w.healthy:
            health = f"[green]{t('status.healthy')}[/]"
        elif w.beat.stopped_at is not None:
            health = t("status.stopped")
        else:
            health = f"[red]{t('status.silent', ago=ago(w.silent_for))}[/]"
        table.add_row(
            w.beat.kind,
            f"{w.beat.hostname}:{w.beat.pid}",
            f"{w.beat.running}/{w.beat.processed}",
            health,
        )
    console.print(table)
