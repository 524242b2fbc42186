"""Intake speed of `kyra serve`: how fast the REST API queues runs (issue 10: >= 1,000/s).

Starts a real `kyra serve` (SQLite, workers on) in a temporary home, applies a one-step
workflow and queues runs three ways, printing runs/s for each:

- one `POST /api/v1/workflows/{name}/run` after another (one client, keep-alive);
- the same from `--clients` threads at once (what a busy webhook source does);
- `POST /api/v1/workflows/{name}/runs` with batches of `--batch` runs.

    .venv/bin/python bench/intake.py [--runs 1000] [--clients 8] [--batch 500]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

KYRA = str(Path(sys.executable).with_name("kyra"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="kyra-intake-"))
    env = dict(os.environ, KYRA_LANG="en", KYRA_DATABASE_URL=f"sqlite:///{home}/kyra.db")

    def kyra(*argv: str) -> str:
        done = subprocess.run(
            [KYRA, *argv], cwd=home, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout

    kyra("init")
    doc = {
        "name": "intake",
        "steps": [{"name": "t", "action": "transform", "with": {"value": "{{ inputs.n }}"}}],
    }
    (home / "intake.json").write_text(json.dumps(doc))
    kyra("workflows", "apply", "intake.json")
    key = json.loads(kyra("apikeys", "create", "--tenant", "default", "--json"))["key"]
    port = _free_port()
    with open(home / "serve.log", "w") as log:
        server = subprocess.Popen(
            [KYRA, "serve", "--port", str(port)], cwd=home, env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as api:
            for _ in range(300):
                try:
                    if api.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            path = "/api/v1/workflows/intake/run"
            t0 = time.perf_counter()
            for n in range(args.runs):
                api.post(path, json={"inputs": {"n": n}}).raise_for_status()
            sequential = args.runs / (time.perf_counter() - t0)

        def client_share(share: range) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as own:
                for n in share:
                    own.post(path, json={"inputs": {"n": n}}).raise_for_status()

        shares = [range(i, args.runs, args.clients) for i in range(args.clients)]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(client_share, shares))
        concurrent = args.runs / (time.perf_counter() - t0)

        with httpx.Client(base_url=base, headers=headers, timeout=30) as api:
            t0 = time.perf_counter()
            for start in range(0, args.runs, args.batch):
                runs = [
                    {"inputs": {"n": n}} for n in range(start, min(args.runs, start + args.batch))
                ]
                api.post("/api/v1/workflows/intake/runs", json={"runs": runs}).raise_for_status()
            batched = args.runs / (time.perf_counter() - t0)
        print(f"POST .../run, one client:        {sequential:8.0f} runs/s")
        print(f"POST .../run, {args.clients} clients:        {concurrent:8.0f} runs/s")
        print(f"POST .../runs, batches of {args.batch}:  {batched:8.0f} runs/s")
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
