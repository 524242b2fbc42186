"""The peer benchmark's runners on a step that always answers 401 (`GET /auth`).

    ~/.cache/kyra-peer-bench/venv/bin/python bench/peer_auth.py \
        [--bench-dir ../shared/bench] [--runners tenacity,tenacity_kyra,celery,celery_kyra]

Run with the peer harness's own venv (`run_all.sh` builds it) and `KYRA_BIN` set, like
`run_all.sh`. The harness's two scenarios never meet a permanent error; this one is a
third: W workflows × one `GET /auth` step, scored by the same `harness.bench.run_one`
(fresh process per runner, requests counted by the fault server). A retry cannot fix a
401: the least a runner can spend is one request a workflow.

The harness hands its peers a `PermanentError` for a 4xx (the classification a user has
to write by hand), so its tenacity and Celery runners already stop at once. The extra
row `tenacity (any error)` is tenacity as it is usually written, `@retry` on every error
of the call with the peers' nominal policy (6 attempts, 1-2-4-8-16 s full jitter), run
in this process against the same server. Not a test: it prints one row per runner.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AUTH_STEPS = [["GET", "/auth"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_dir = Path(__file__).resolve().parents[2] / "shared" / "bench"
    parser.add_argument("--bench-dir", type=Path, default=Path("../shared/bench"))
    parser.add_argument("--runners", default="tenacity,tenacity_kyra,celery,celery_kyra")
    parser.add_argument("--workflows", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    bench_dir = args.bench_dir if (args.bench_dir / "harness").is_dir() else default_dir
    sys.path.insert(0, str(bench_dir.resolve()))
    os.chdir(bench_dir)
    from harness.bench import run_one  # the harness's own scoring, unchanged
    from harness.common import BenchConfig

    work = Path(tempfile.mkdtemp(prefix="kyra-peer-auth-"))
    port_file = work / "port"
    server = subprocess.Popen(
        [sys.executable, "faultserver.py", "--port-file", str(port_file)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline:
                raise RuntimeError("the fault server did not start")
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port_file.read_text().strip()}"
        print("| runner | ok | failed | HTTP req | req/workflow | wall s |")
        print("|---|---|---|---|---|---|")
        for runner in [r for r in args.runners.split(",") if r]:
            run_id = f"{runner}-auth-{int(time.time() * 1000) % 10**8}"
            cfg = BenchConfig(
                base_url=base,
                run_id=run_id,
                scenario="auth",
                steps=AUTH_STEPS,
                workflows=args.workflows,
                concurrency=args.concurrency,
                workdir=str(work / run_id),
            )
            row = run_one(runner, cfg, base, {}, 600)
            if "http_requests" not in row:
                why = str(row.get("skipped") or row.get("error"))[-150:]
                print(f"| {runner} | not run: {why} |")
                continue
            print(
                f"| {runner} | {row['succeeded']} | {row['failed']} | {row['http_requests']} | "
                f"{row['http_requests'] / args.workflows:.2f} | {row['wall_s']:.2f} |",
                flush=True,
            )
        print(_naive_tenacity(base, args.workflows, args.concurrency, work))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


def _naive_tenacity(base: str, workflows: int, concurrency: int, work: Path) -> str:
    """The `tenacity (any error)` row: @retry on every StepError, nominal policy."""
    import httpx
    from harness.common import BenchConfig, StepError, run_step, run_threaded
    from tenacity import retry, retry_if_exception_type, stop_after_attempt
    from tenacity import wait_random_exponential as jitter

    run_id = f"tenacity-any-auth-{int(time.time() * 1000) % 10**8}"
    cfg = BenchConfig(
        base_url=base,
        run_id=run_id,
        scenario="auth",
        steps=AUTH_STEPS,
        workflows=workflows,
        concurrency=concurrency,
        workdir=str(work / run_id),
    )
    httpx.post(base + "/__reset", json={}).raise_for_status()

    @retry(
        retry=retry_if_exception_type(StepError),
        wait=jitter(multiplier=cfg.backoff_base_s, max=cfg.backoff_max_s),
        stop=stop_after_attempt(cfg.max_retries + 1),
        reraise=True,
    )
    def step(wf: int, idx: int) -> dict[str, object]:
        return dict(run_step(cfg, wf, idx))

    started = time.time()
    results = run_threaded(cfg, lambda wf: step(wf, 0))
    wall = time.time() - started
    requests = httpx.get(base + "/__stats", params={"client": run_id}).json()["requests"]
    ok = sum(1 for r in results if r["ok"])
    return (
        f"| tenacity (any error) | {ok} | {len(results) - ok} | {requests} | "
        f"{requests / workflows:.2f} | {wall:.2f} |"
    )


if __name__ == "__main__":
    sys.exit(main())
