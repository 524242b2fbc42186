"""Chaos benchmark: N workflows under a mix of real faults, run three ways.

Faults (round-robin over the workflows), served by Kyra's fault server in its own process:
  rate_limit   two requests to an API allowing one per second (429 + Retry-After)
  unavailable  a 2 s outage (503 + Retry-After with the time left)
  slow         the first two answers take 0.5 s; the step's timeout is 0.3 s
  date         the API wants ISO dates; the workflow sends "26/11/2026"
  auth         a revoked API key (401: RED, must never be "fixed")

Modes:
  healing   Kyra with healing on (LLM off): diagnosis → fix → re-run, no human
  off       no retry, no healing (what n8n does by default)
  retries   plain retries, exponential backoff honouring Retry-After (what a careful
            developer writes with tenacity)

Prints, per mode: % of executions completed, recovery time p50/p95 from the first
failure, HTTP requests sent to the failing upstreams, fixes attempted/succeeded, wrong
fixes, loops, cost. Usage: python bench/chaos.py [--workflows 200] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fault_server_process, percentile
from kyra.app import Kyra, create_app
from kyra.engine.error_context import ErrorContext
from kyra.engine.events import ExecutorObserver, RunInfo, RunResult
from kyra.engine.fleet import FleetGuard
from kyra.engine.fleet_settings import FleetSettings
from kyra.healing.driver import HealingDriver
from kyra.healing.healer import Healer
from kyra.healing.settings import HealingSettings
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store import healing as heal_store
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Workflow

KINDS = ("rate_limit", "unavailable", "slow", "date", "auth")
GREEN = {"rate_limit", "unavailable", "slow", "date"}
EXPECTED_CLASS = {
    "rate_limit": "rate_limit_exceeded",
    "unavailable": "service_temporarily_unavailable",
    "slow": "timeout_error",
    "date": "invalid_date_format",
}
WINDOW = {"rate_limit": 1.0, "unavailable": 2.0, "slow": 0.5, "date": 0.0, "auth": 0.0}
RETRIES = {"max_retries": 5, "backoff": "exponential", "initial_delay": 0.5, "max_delay": 8}


def workflow_doc(
    kind: str, key: str, bases: dict[str, str], retry: dict[str, Any]
) -> dict[str, Any]:
    base = bases[kind]

    def http(name: str, url: str, **extra: Any) -> dict[str, Any]:
        return {"name": name, "action": "http_request", "with": {"url": url, **extra}}

    steps: list[dict[str, Any]]
    config: dict[str, Any] = {"retry": retry}
    if kind == "rate_limit":
        url = f"{base}/pace/{key}?min_interval=1"
        steps = [http("first", url, method="POST"), http("second", url, method="POST")]
    elif kind == "unavailable":
        steps = [http("call", f"{base}/window/{key}?seconds=2&status=503&retry_after=auto")]
    elif kind == "slow":
        config["timeout"] = 0.3
        steps = [http("call", f"{base}/slow/{key}?delay=0.5&times=2")]
    elif kind == "date":
        steps = [
            http(
                "call",
                f"{base}/dates?format=%25Y-%25m-%25d&field=due",
                method="POST",
                json={"due": "26/11/2026", "ref": key},
            )
        ]
    else:
        steps = [http("call", f"{base}/auth?token=current", auth={"bearer": "revoked"})]
    return {"name": key, "config": config, "steps": steps}


@dataclass
class Outcome:
    kind: str
    completed: bool = False
    first_failure: float | None = None
    recovered_at: float | None = None


class FirstFailure(ExecutorObserver):
    """Notes when each workflow first failed (an attempt inside a run counts too)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self._lock = threading.Lock()

    def _mark(self, run: RunInfo) -> None:
        with self._lock:
            self.at.setdefault(run.workflow_name, time.monotonic())

    def on_step_retry(
        self, run: RunInfo, step_name: str, error: ErrorContext, delay: float
    ) -> None:
        self._mark(run)

    def on_run_failed(self, run: RunInfo, error: ErrorContext) -> None:
        self._mark(run)


@dataclass
class ModeReport:
    mode: str
    outcomes: list[Outcome] = field(default_factory=list)
    requests: int = 0
    fixes_attempted: int = 0
    fixes_succeeded: int = 0
    wrong_fixes: int = 0
    loops: int = 0
    cost: float = 0.0
    seconds: float = 0.0


def _app(folder: Path, fleet: bool) -> Kyra:
    kyra = create_app(
        Settings(
            database_url=f"sqlite:///{folder / 'chaos.db'}",
            home=folder,
            secret_key=SecretStr(Fernet.generate_key().decode()),
        )
    )
    # The baselines are plain executors: no shared pacing, no circuit breaker.
    kyra.__dict__["fleet"] = FleetGuard(kyra.store, kyra.clock, FleetSettings(enabled=fleet))
    return kyra


def run_mode(mode: str, bases: dict[str, str], n: int, concurrency: int) -> ModeReport:
    for base in bases.values():
        httpx.post(f"{base}/_reset")
    report = ModeReport(mode)
    with tempfile.TemporaryDirectory() as tmp:
        kyra = _app(Path(tmp), fleet=mode == "healing")
        probe = FirstFailure()
        retry = RETRIES if mode == "retries" else {"max_retries": 0}
        records: list[tuple[str, WorkflowRecord]] = []
        for i in range(n):
            kind = KINDS[i % len(KINDS)]
            doc = workflow_doc(kind, f"{mode}-{kind}-{i}", bases, retry)
            record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
            records.append((kind, record))
        # One tenant owns all N workflows here; at the spec's default (30 fixes in 10 min)
        # the tenant circuit breaker would rightly stop healing. A fleet operator raises it.
        healer = Healer(kyra, settings=HealingSettings(tenant_burst_limit=10 * n))
        _ = healer.diagnoser.model  # trained at start-up, as `kyra serve` does

        def one(item: tuple[str, WorkflowRecord]) -> Outcome:
            kind, record = item
            if mode == "healing":
                final: RunResult = HealingDriver(kyra, healer, [probe]).run(record).final
            else:
                final = kyra.executor([probe]).run(record)
            out = Outcome(kind, completed=final.succeeded, first_failure=probe.at.get(record.name))
            if final.succeeded:
                out.recovered_at = time.monotonic()
            return out

        start = time.monotonic()
        with ThreadPoolExecutor(concurrency) as pool:
            report.outcomes = list(pool.map(one, records))
        report.seconds = time.monotonic() - start
        report.requests = sum(httpx.get(f"{b}/_stats").json()["total"] for b in bases.values())
        fixes = heal_store.list_fixes(kyra.store, kyra.tenant.id, limit=100_000)
        kinds = {record.id: kind for kind, record in records}
        auto = [f for f in fixes if f.status in ("applied", "failed", "rolled_back")]
        report.fixes_attempted = len(auto)
        report.fixes_succeeded = sum(f.outcome == "succeeded" for f in auto)
        report.wrong_fixes = sum(
            kinds[f.workflow_id] not in GREEN
            or EXPECTED_CLASS[kinds[f.workflow_id]] != f.error_class
            for f in auto
        )
        per_workflow = Counter(f.workflow_id for f in auto)
        report.loops = sum(
            count > healer.settings.max_attempts_per_error_type for count in per_workflow.values()
        )
        report.cost = sum(f.cost for f in fixes)
        kyra.close()
    return report


def print_table(reports: list[ModeReport]) -> None:
    header = (
        f"{'mode':<9} {'done %':>7} {'GREEN done %':>12} {'recovery p50/p95 s':>19} "
        f"{'vs window p50':>13} {'requests':>9} {'fixes ok/tried':>15} {'wrong':>6} "
        f"{'loops':>6} {'RED fixed':>9} {'cost $':>7} {'wall s':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in reports:
        total = len(r.outcomes)
        green = [o for o in r.outcomes if o.kind in GREEN]
        red_fixed = sum(o.completed for o in r.outcomes if o.kind not in GREEN)
        rec = [
            o.recovered_at - o.first_failure
            for o in r.outcomes
            if o.completed and o.first_failure is not None and o.recovered_at is not None
        ]
        ratios = [
            (o.recovered_at - o.first_failure) / WINDOW[o.kind]
            for o in r.outcomes
            if o.completed and o.first_failure and o.recovered_at and WINDOW[o.kind] > 0
        ]
        p50 = percentile(rec, 50) if rec else float("nan")
        p95 = percentile(rec, 95) if rec else float("nan")
        ratio = percentile(ratios, 50) if ratios else float("nan")
        print(
            f"{r.mode:<9} {100 * sum(o.completed for o in r.outcomes) / total:>7.1f} "
            f"{100 * sum(o.completed for o in green) / len(green):>12.1f} "
            f"{p50:>9.2f} / {p95:<7.2f} {ratio:>13.2f} {r.requests:>9} "
            f"{r.fixes_succeeded:>7}/{r.fixes_attempted:<7} {r.wrong_fixes:>6} {r.loops:>6} "
            f"{red_fixed:>9} {r.cost:>7.2f} {r.seconds:>7.1f}"
        )
    print(
        "\nrecovery: from a workflow's first failed attempt to its successful run; "
        "'vs window' divides it by the fault's own window (rate limit 1 s, outage 2 s, "
        "slow 0.5 s; date faults have no window)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workflows", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--modes", default="healing,off,retries")
    args = parser.parse_args()
    # One upstream per fault kind, as in real life (an outage of one API does not trip the
    # circuit breaker of another).
    with ExitStack() as stack:
        bases = {kind: stack.enter_context(fault_server_process()) for kind in KINDS}
        reports = [
            run_mode(mode, bases, args.workflows, args.concurrency)
            for mode in args.modes.split(",")
        ]
    print(
        f"\n{args.workflows} workflows, faults: {', '.join(KINDS)} (round-robin), "
        f"concurrency {args.concurrency}, LLM off\n"
    )
    print_table(reports)


if __name__ == "__main__":
    main()
