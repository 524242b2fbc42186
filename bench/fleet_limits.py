"""Recovery at the limit (#10): Kyra's fleet pacing and circuits against a plain retry loop.

Each scenario runs twice in one sitting against Kyra's fault server (its own process,
reset between runs): once as workflows in Kyra's embedded runtime (SQLite, 8 workers,
every step persisted), once as a tenacity-style loop (8 threads, httpx, the same retry
policy: 5 retries, exponential 0.5-1-2-4-8 s, honouring Retry-After up to 8 s).

Scenarios (W = --workflows, default 40):
  quota      W × 3 × GET /ratelimit/q, 30 a second announced in IETF RateLimit /
             RateLimit-Policy headers: 429s should be 0 (the quota is read, not hit).
  per-path   W/4 workflows × 3 on a route allowing 10 a second, beside 3W/4 workflows
             × 3 × GET /ok on the same host: the unlimited route is never slowed
             ("ok-route s" is when its last workflow finished).
  hostile    W/5 workflows get `429 Retry-After: 999999999`, the others 3 × GET /ok on
             the same host: "others s" is when the last of the others finished.
  brown-out  W × (GET /ok → GET /window/b): a 6 s outage (503, no Retry-After) from the
             first request: "after end p95" is how long after the outage's end the
             workflows finished (95th percentile).

Usage: python bench/fleet_limits.py [--workflows 40] [--scenarios quota,per-path,...]
Prints one table; figures drift with the machine's load, so compare rows of one run.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fault_server_process, percentile
from kyra.app import create_app
from kyra.runtime.embedded import EmbeddedRuntime
from kyra.runtime.settings import RuntimeSettings
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store import executions as exec_store
from kyra.workflows.model import Workflow

CONCURRENCY = 8
RETRIES = 5
INITIAL, CAP = 0.5, 8.0
OUTAGE = 6.0
TIMEOUT = 120.0


@dataclass
class Job:
    """One workflow: its group (the rows report some groups apart) and its URLs."""

    group: str
    urls: list[str]


@dataclass
class Outcome:
    group: str
    ok: bool
    start: float
    end: float


@dataclass
class Row:
    scenario: str
    runner: str
    outcomes: list[Outcome] = field(default_factory=list)
    wall: float = 0.0
    requests: int = 0
    too_many: int = 0
    extra: str = ""


def scenario_jobs(name: str, base: str, n: int) -> list[Job]:
    if name == "quota":
        url = f"{base}/ratelimit/q?limit=30&window=1&style=ietf"
        return [Job("all", [url] * 3) for _ in range(n)]
    if name == "per-path":
        limited = f"{base}/pace/limited?min_interval=0.1"
        jobs = [Job("limited", [limited] * 3) for _ in range(n // 4)]
        free = [Job("ok", [f"{base}/ok"] * 3) for _ in range(n - n // 4)]
        return [j for pair in zip(jobs, free, strict=False) for j in pair] + free[len(jobs) :]
    if name == "hostile":
        hostile = f"{base}/status/429?header=Retry-After:999999999"
        bad = [Job("hostile", [hostile]) for _ in range(n // 5)]
        return bad + [Job("ok", [f"{base}/ok"] * 3) for _ in range(n - n // 5)]
    if name == "brown-out":
        outage = f"{base}/window/b?seconds={OUTAGE:g}&status=503"
        return [Job("all", [f"{base}/ok", outage]) for _ in range(n)]
    raise SystemExit(f"unknown scenario {name!r}")


# -- the plain retry loop ------------------------------------------------------------------


def _retry_after(response: httpx.Response) -> float:
    try:
        return float(response.headers.get("retry-after", "0"))
    except ValueError:
        return 0.0


def run_loop(jobs: list[Job]) -> list[Outcome]:
    """What a careful developer writes with tenacity: retry 429, 5xx and transport errors,
    exponential backoff, Retry-After honoured up to the cap."""

    start = time.monotonic()  # every workflow is queued now, as in Kyra's runtime

    def one(job: Job, client: httpx.Client) -> Outcome:
        for url in job.urls:
            for attempt in range(RETRIES + 1):
                try:
                    response = client.get(url)
                    if response.status_code < 400:
                        break
                    if response.status_code != 429 and response.status_code < 500:
                        return Outcome(job.group, False, start, time.monotonic())
                    wait = max(_retry_after(response), INITIAL * 2**attempt)
                except httpx.TransportError:
                    wait = INITIAL * 2**attempt
                if attempt == RETRIES:
                    return Outcome(job.group, False, start, time.monotonic())
                time.sleep(min(wait, CAP))
        return Outcome(job.group, True, start, time.monotonic())

    with httpx.Client(timeout=10) as client, ThreadPoolExecutor(CONCURRENCY) as pool:
        return list(pool.map(lambda job: one(job, client), jobs))


# -- Kyra ---------------------------------------------------------------------------------


def run_kyra(jobs: list[Job]) -> list[Outcome]:
    """The workflows applied and queued in Kyra's embedded runtime, as `kyra serve` runs them."""
    retry = {"max_retries": RETRIES, "backoff": "exponential", "initial_delay": INITIAL}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        kyra = create_app(
            Settings(
                database_url=f"sqlite:///{folder / 'kyra.db'}",
                home=folder,
                secret_key=SecretStr(Fernet.generate_key().decode()),
            )
        )
        runtime = EmbeddedRuntime(
            kyra, RuntimeSettings(concurrency=CONCURRENCY, poll_seconds=0.05), schedule=False
        )
        records = []
        for i, job in enumerate(jobs):
            doc = {
                "name": f"w{i}",
                "config": {"retry": {**retry, "max_delay": CAP}},
                "steps": [
                    {"name": f"s{k}", "action": "http_request", "with": {"url": url}}
                    for k, url in enumerate(job.urls)
                ],
            }
            record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
            records.append(record)
        try:
            with runtime:
                start = time.monotonic()
                ids = [runtime.submit(record) for record in records]
                ends: dict[str, tuple[bool, float]] = {}
                deadline = start + TIMEOUT
                while len(ends) < len(ids) and time.monotonic() < deadline:
                    for execution_id in ids:
                        if execution_id in ends:
                            continue
                        info = exec_store.get_execution(kyra.store, execution_id)
                        if info.status not in ("queued", "running", "waiting"):
                            ends[execution_id] = (info.status == "succeeded", time.monotonic())
                    time.sleep(0.02)
        finally:
            kyra.close()
    unfinished = (False, time.monotonic())  # still running at the deadline: not ok
    outcomes = []
    for job, execution_id in zip(jobs, ids, strict=True):
        ok, end = ends.get(execution_id, unfinished)
        outcomes.append(Outcome(job.group, ok, start, end))
    return outcomes


# -- the table ------------------------------------------------------------------------------


def scenario_figure(name: str, outcomes: list[Outcome], outage_end: float) -> str:
    if name == "per-path" or name == "hostile":
        others = [o.end - o.start for o in outcomes if o.group == "ok"]
        return f"{max(others):.2f}"
    if name == "brown-out":
        after = [max(0.0, o.end - outage_end) for o in outcomes if o.ok]
        return f"{percentile(after, 95):.2f}" if after else "-"
    return ""


FIGURE = {
    "quota": "",
    "per-path": "ok-route s",
    "hostile": "others s",
    "brown-out": "after end p95 s",
}


def run(name: str, base: str, n: int, runner: str) -> Row:
    httpx.post(f"{base}/_reset")
    jobs = scenario_jobs(name, base, n)
    run_jobs: Callable[[list[Job]], list[Outcome]] = run_kyra if runner == "kyra" else run_loop
    start = time.monotonic()
    outcomes = run_jobs(jobs)
    row = Row(name, runner, outcomes, wall=max(o.end for o in outcomes) - start)
    stats: dict[str, Any] = httpx.get(f"{base}/_stats").json()
    row.requests = stats["total"]
    row.too_many = stats["statuses"].get("429", 0)
    first = min(o.start for o in outcomes)
    row.extra = scenario_figure(name, outcomes, first + OUTAGE)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workflows", type=int, default=40)
    parser.add_argument("--scenarios", default="quota,per-path,hostile,brown-out")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # a hostile upstream is meant to fail: no noise
    rows = []
    with fault_server_process() as base:
        for name in args.scenarios.split(","):
            for runner in ("retry loop", "kyra"):
                rows.append(run(name, base, args.workflows, runner))
                print(f"[fleet] {name} {runner}: {rows[-1].wall:.2f} s", file=sys.stderr)
    print(f"{args.workflows} workflows, {CONCURRENCY} at a time; retry policy {RETRIES} × ")
    print(f"exponential {INITIAL:g} s doubling, cap {CAP:g} s, Retry-After honoured up to it.\n")
    print("| scenario | runner | ok | wall s | requests | 429s | figure | value |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        ok = sum(o.ok for o in row.outcomes)
        print(
            f"| {row.scenario} | {row.runner} | {ok}/{len(row.outcomes)} | {row.wall:.2f} | "
            f"{row.requests} | {row.too_many} | {FIGURE[row.scenario] or '-'} | "
            f"{row.extra or '-'} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
