"""Incidents across workflows, fed by every finished run (an executor observer: it sees
successes too, which healing never does).

A run that fails on a host for a host's reasons (5xx, 429, timeouts, refused
connections) records a failure there; failures of `incident_min_workflows` different
workflows within `incident_window_seconds` become one incident, announced once on its
own notification thread, the host named as the common cause. Any later step that
succeeds on the host resolves it, announced on the same thread. A crash here is logged
by the executor's observer fan-out and never fails the run.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from urllib.parse import urlsplit

from kyra.app import Kyra
from kyra.engine.error_context import ErrorContext
from kyra.engine.events import ExecutorObserver, RunInfo, RunResult
from kyra.engine.step_buffer import StepBuffer
from kyra.healing.events import HealEvent
from kyra.incidents.at_risk import clear_at_risk, mark_at_risk
from kyra.store import incidents as incident_store
from kyra.store.executions import StepRun
from kyra.store.incidents import HostIncident

log = logging.getLogger("kyra.incidents")

TRANSPORT_ERRORS = frozenset(
    {
        "ConnectError",
        "ConnectTimeout",
        "ReadTimeout",
        "WriteTimeout",
        "PoolTimeout",
        "TimeoutException",
        "ReadError",
        "WriteError",
        "RemoteProtocolError",
        "NetworkError",
        "DeadlineExceeded",
        "ConnectionError",
        "ConnectionRefusedError",
        "TimeoutError",
    }
)
"""Error types that say the host did not answer (not that our request was wrong)."""
OPEN_HOSTS_TTL = 5.0
MAX_TENANTS = 10_000


def url_host(step: StepRun) -> str | None:
    """`host[:port]` of the step's URL, or None for a step that calls no URL."""
    url = (step.params or {}).get("url")
    if not isinstance(url, str):
        return None
    try:
        netloc = urlsplit(url).netloc.rpartition("@")[2]
    except ValueError:
        return None
    return netloc[:255] or None


def host_trouble(ctx: ErrorContext) -> bool:
    """True when the failure says the host is in trouble rather than the request."""
    status = ctx.status_code
    if status is not None:
        return status >= 500 or status == 429
    return (ctx.error_type or "") in TRANSPORT_ERRORS


class IncidentObserver(ExecutorObserver):
    def __init__(self, kyra: Kyra) -> None:
        self.kyra = kyra
        self._steps = StepBuffer()
        self._open: dict[str, tuple[float, frozenset[str]]] = {}
        """Tenant → (read at, hosts with an open incident): a healthy run costs no query."""

    def on_step_finished(self, run: RunInfo, step: StepRun) -> None:
        self._steps.add(run, step)

    def on_run_finished(self, run: RunInfo, result: RunResult) -> None:
        steps = self._steps.pop(run.execution_id)
        failed_host = self._failure(run, result, steps)
        healthy = {h for s in steps if s.status == "succeeded" and (h := url_host(s))}
        healthy.discard(failed_host or "")
        if healthy and healthy & self._open_hosts(run.tenant_id):
            self._open.pop(run.tenant_id, None)
            now = self.kyra.clock.now()
            for incident in incident_store.recover_hosts(
                self.kyra.store, run.tenant_id, healthy, run.execution_id, now
            ):
                clear_at_risk(self.kyra.store, incident, now)
                self._announce("host_recovered", incident, run.execution_id)

    def _open_hosts(self, tenant_id: str) -> frozenset[str]:
        """Open incidents' hosts, read at most every `OPEN_HOSTS_TTL` seconds (an incident
        another process opened is resolved by a success here that much later at most)."""
        now = time.monotonic()
        cached = self._open.get(tenant_id)
        if cached is not None and now - cached[0] < OPEN_HOSTS_TTL:
            return cached[1]
        if len(self._open) >= MAX_TENANTS:
            self._open.clear()
        hosts = incident_store.open_hosts(self.kyra.store, tenant_id)
        self._open[tenant_id] = (now, hosts)
        return hosts

    def _failure(self, run: RunInfo, result: RunResult, steps: list[StepRun]) -> str | None:
        ctx = result.error_context
        if result.status != "failed" or ctx is None or not host_trouble(ctx):
            return None
        failed = [s for s in steps if s.status == "failed" and s.step_name == result.failed_step]
        host = url_host(failed[-1]) if failed else None
        if host is None:
            return None
        settings = self.kyra.settings
        status = f"HTTP {ctx.status_code} " if ctx.status_code else ""
        incident, opened = incident_store.fail_on_host(
            self.kyra.store,
            tenant_id=run.tenant_id,
            host=host,
            workflow_id=run.workflow_id,
            execution_id=run.execution_id,
            step_name=result.failed_step or "",
            error=f"{status}{ctx.error_type or 'error'}",
            now=self.kyra.clock.now(),
            window=timedelta(seconds=settings.incident_window_seconds),
            min_workflows=settings.incident_min_workflows,
        )
        if incident is not None:
            self._open.pop(run.tenant_id, None)  # read the open hosts afresh next time
        if incident is not None and opened:
            mark_at_risk(self.kyra.store, incident, self.kyra.clock.now())
            self._announce("host_incident", incident, run.execution_id)
        return host

    def _announce(self, kind: str, incident: HostIncident, execution_id: str) -> None:
        event = HealEvent(
            kind=kind,
            tenant_id=incident.tenant_id,
            workflow_id="",
            workflow_name=incident.host,
            at=self.kyra.clock.now(),
            execution_id=execution_id,
            incident=incident_store.thread_key(incident.id),
            values={
                "host": incident.host,
                "count": len(incident.workflows),
                "workflows": ", ".join(incident.workflows[:20]),
                "since": incident.opened_at.strftime("%Y-%m-%d %H:%M UTC"),
                "id": incident.id[:8],
            },
        )
        log.warning("%s: %s (%s)", kind, incident.host, event.values["workflows"])
        try:
            self.kyra.notifier.notify(event)  # the app's one notifier
        except Exception:  # a notification problem must never fail a run
            log.exception("announcing incident %s failed", incident.id[:8])
