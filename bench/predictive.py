"""Predictive healing: how early "at risk" comes before a ramping host's first timeout,
and how many false "at risk" a healthy host with normal jitter raises.

Real runs through Kyra (`Kyra.executor()`, which carries the trend observer, on SQLite)
against the fault server's `/ramp/{key}` endpoint in its own process:

* ramp: latency `base` s for `--after` runs, then `--step` s more per run, jitter
  ±`--jitter`, timeout `--timeout` s, no retries; runs until the first failed run (a
  timeout). Prints, per seed, the run that raised "at risk", the run that timed out and
  the runs between them, plus the run where the proactive timeout fix was proposed.
* healthy: `--healthy-runs` runs at `base` s with jitter ±`--healthy-jitter` and one run
  in 50 `--spike` times slower; prints the runs that showed the workflow at risk.

Usage: python bench/predictive.py [--seeds 3] [--healthy-runs 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fault_server_process
from kyra.app import Kyra, create_app
from kyra.predict.risk import active_risks
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store import healing as heal_store
from kyra.workflows.model import Workflow


def _workflow(name: str, url: str, timeout: float) -> Workflow:
    return Workflow.model_validate(
        {
            "name": name,
            "config": {"timeout": timeout, "retry": {"max_retries": 0}},
            "steps": [{"name": "fetch", "action": "http_request", "with": {"url": url}}],
        }
    )


def _at_risk(app: Kyra, workflow_id: str) -> list[str]:
    return [r.reason.key for r in active_risks(app.store, app.tenant.id, workflow_id=workflow_id)]


def ramp(app: Kyra, url: str, args: argparse.Namespace, seed: int) -> dict[str, int | None]:
    query = f"base={args.base}&step={args.step}&after={args.after}&jitter={args.jitter}&seed={seed}"
    record, _ = apply_workflow(
        app, app.tenant.id, _workflow(f"ramp-{seed}", f"{url}/ramp/r{seed}?{query}", args.timeout)
    )
    executor = app.executor()
    warned = proposed = None
    episodes, was = 0, False
    for number in range(1, args.max_runs + 1):
        result = executor.run(record)
        if not result.succeeded:
            return {"warned": warned, "timeout": number, "proposed": proposed, "episodes": episodes}
        now = bool(_at_risk(app, record.id))
        episodes += now and not was
        was = now
        if warned is None and now:
            warned = number
        if proposed is None and any(
            f.workflow_id == record.id and f.status == "proposed"
            for f in heal_store.list_fixes(app.store, app.tenant.id, limit=20)
        ):
            proposed = number
    return {"warned": warned, "timeout": None, "proposed": proposed, "episodes": episodes}


def healthy(app: Kyra, url: str, args: argparse.Namespace) -> tuple[int, int]:
    query = (
        f"base={args.base}&jitter={args.healthy_jitter}&spike={args.spike}&spike_every=50&seed=h"
    )
    record, _ = apply_workflow(
        app, app.tenant.id, _workflow("steady", f"{url}/ramp/steady?{query}", args.timeout)
    )
    executor = app.executor()
    alarms = failures = 0
    for _ in range(args.healthy_runs):
        result = executor.run(record)
        failures += not result.succeeded
        alarms += bool(_at_risk(app, record.id))
    return alarms, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--healthy-runs", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=0.5)
    parser.add_argument("--base", type=float, default=0.1)
    parser.add_argument("--after", type=int, default=20)
    parser.add_argument("--step", type=float, default=0.012)
    parser.add_argument("--jitter", type=float, default=0.2)
    parser.add_argument("--healthy-jitter", type=float, default=0.3)
    parser.add_argument("--spike", type=float, default=1.8)
    parser.add_argument("--max-runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fault_server_process() as url:
        app = create_app(
            Settings(
                database_url=f"sqlite:///{tmp}/bench.db",
                home=Path(tmp),
                secret_key=SecretStr(Fernet.generate_key().decode()),
            )
        )
        print(
            f"ramp: {args.base:g} s for {args.after} runs, then +{args.step:g} s/run, "
            f"jitter ±{args.jitter:.0%}, timeout {args.timeout:g} s"
        )
        leads: list[int] = []
        for seed in range(args.seeds):
            found = ramp(app, url, args, seed)
            lead = None
            if found["warned"] is not None and found["timeout"] is not None:
                lead = found["timeout"] - found["warned"]
                leads.append(lead)
            print(
                f"  seed {seed}: at risk at run {found['warned']}, proactive fix proposed at "
                f"run {found['proposed']}, first timeout at run {found['timeout']}: "
                f"{lead} runs of warning ({found['episodes']} at-risk episode(s))"
            )
        missed = args.seeds - len(leads)
        print(
            f"runs between warning and first timeout: min {min(leads, default=0)}, "
            f"max {max(leads, default=0)} over {args.seeds} ramps ({missed} without both)"
        )
        start = time.perf_counter()
        alarms, failures = healthy(app, url, args)
        print(
            f"healthy: {args.healthy_runs} runs at {args.base:g} s ±{args.healthy_jitter:.0%}, "
            f"one in 50 x{args.spike:g}: {alarms} runs at risk (false alarms), "
            f"{failures} failed runs ({time.perf_counter() - start:.0f} s)"
        )
        app.close()


if __name__ == "__main__":
    main()
