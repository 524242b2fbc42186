"""Hostile requests from one tenant against a real API server (uvicorn on loopback), and
what another tenant sees meanwhile.

    .venv/bin/python bench/hostile_api.py [--steps 1500]

1. Sends a few dozen malformed or oversized requests as tenant "mallory" (bad JSON,
   wrong types, deep nesting, huge and chunked bodies, unicode and path-traversal names,
   unknown hooks) and counts answers that are not a 4xx problem+json: 5xx, or an error
   in another shape. Exits 1 if there is one.
2. Posts a large workflow document as "mallory" (`--steps` steps, seconds of YAML
   parsing) while "alice" lists her workflows in a loop, and prints alice's latency
   (p50 / max) beside her latency with nobody else busy. Compare the two in one run;
   the machine's speed drifts.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography.fernet import Fernet
from pydantic import SecretStr

from kyra.api import create_api
from kyra.api.auth import create_api_key
from kyra.app import Kyra, create_app
from kyra.settings import Settings
from kyra.store.tenants import ensure_tenant

STEP = "  - {name: s%d, action: transform, with: {value: {a: [1, 2, 3, 4, 5, 6, 7, 8]}}}\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _chunks(total: int) -> Iterator[bytes]:
    for _ in range(total // 65536):
        yield b"x" * 65536


def cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, httpx keyword arguments) of each hostile request."""
    js = {"content-type": "application/json"}
    yml = {"content-type": "application/yaml"}
    run = "/api/v1/workflows/w/run"
    return [
        ("POST", "/api/v1/workflows", {"content": b"{not json", "headers": js}),
        ("POST", "/api/v1/workflows", {"content": b"name: x\nsteps: [", "headers": yml}),
        ("POST", "/api/v1/workflows", {"content": b"\xff\xfe", "headers": yml}),
        ("POST", "/api/v1/workflows", {"json": [1, 2]}),
        ("POST", "/api/v1/workflows", {"json": {"source": 5}}),
        ("POST", "/api/v1/workflows", {"json": {"name": "../../etc/passwd", "steps": []}}),
        ("POST", "/api/v1/workflows", {"content": b"[" * 100_000, "headers": yml}),
        ("POST", "/api/v1/workflows", {"content": b"a: &a [*a]\n", "headers": yml}),
        ("POST", "/api/v1/workflows", {"content": b"x: " + b"a" * 2_000_000, "headers": yml}),
        ("POST", "/api/v1/workflows", {"content": b"<x/>", "headers": {"content-type": "a/b"}}),
        ("GET", "/api/v1/workflows/..%2F..%2Fetc%2Fpasswd", {}),
        ("GET", "/api/v1/workflows/%00", {}),
        ("GET", "/api/v1/workflows/" + "a" * 10_000, {}),
        ("GET", "/api/v1/workflows/%F0%9F%92%A9", {}),
        ("GET", "/api/v1/workflows/%ff", {}),
        ("POST", run, {"content": b"{bad", "headers": js}),
        ("POST", run, {"json": {"inputs": "text"}}),
        ("POST", run, {"content": b'{"inputs": {"a": NaN}}', "headers": js}),
        ("POST", run, {"content": b'{"inputs": ' + b"[" * 5000 + b"]" * 5000 + b"}"}),
        ("POST", run, {"content": b'{"inputs": {"a": "' + b"x" * 11_000_000 + b'"}}'}),
        ("POST", "/api/v1/diagnose", {"content": _chunks(20_000_000), "headers": js}),
        ("POST", "/api/v1/diagnose", {"json": [{}] * 101}),
        ("POST", "/api/v1/diagnose", {"json": {"status_code": "x"}}),
        ("GET", "/api/v1/executions?limit=-1", {}),
        ("GET", "/api/v1/executions?cursor=!!!", {}),
        ("GET", "/api/v1/fixes/%25", {}),
        ("POST", "/api/v1/fixes/abc/approve", {"content": b"nope", "headers": js}),
        ("PUT", "/api/v1/killswitch", {"json": None}),
        ("PATCH", "/api/v1/tenant", {"json": {"language": "klingon"}}),
        ("POST", "/api/v1/apikeys", {"json": {"tenant": "../alice"}}),
        ("DELETE", "/api/v1/apikeys/%2e%2e", {}),
        ("POST", "/hooks/nope", {"content": b"x"}),
        ("POST", "/hooks/nope", {"content": _chunks(5_000_000)}),
    ]


def hostile(client: httpx.Client, key: str) -> int:
    bad = 0
    for method, path, kw in cases():
        headers = {"Authorization": f"Bearer {key}", **kw.pop("headers", {})}
        r = client.request(method, path, headers=headers, **kw)
        problem = r.headers.get("content-type", "").startswith("application/problem+json")
        ok = 400 <= r.status_code < 500 and problem
        bad += not ok
        mark = "  " if ok else "!!"
        print(f"{mark} {r.status_code} {method:6} {path[:50]:50} {r.text[:60]!r}")
    return bad


def alice_latency(client: httpx.Client, key: str, stop: threading.Event) -> list[float]:
    times = []
    while not stop.is_set():
        started = time.perf_counter()
        client.get("/api/v1/workflows", headers={"Authorization": f"Bearer {key}"})
        times.append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--steps", type=int, default=1500, help="steps in the big document")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(
            database_url=f"sqlite:///{root / 'kyra.db'}",
            home=root / ".kyra",
            secret_key=SecretStr(Fernet.generate_key().decode()),
        )
        kyra: Kyra = create_app(settings)
        keys = {}
        for name in ("mallory", "alice"):
            _, keys[name] = create_api_key(kyra, ensure_tenant(kyra.store, name).id)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_api(kyra), host="127.0.0.1", port=port, log_level="error")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=300) as client:
                bad = hostile(client, keys["mallory"])
                print(f"hostile requests: {len(cases())}, not a 4xx problem: {bad}")
                stop = threading.Event()
                quiet: list[float] = []
                timer = threading.Timer(3.0, stop.set)
                timer.start()
                quiet = alice_latency(client, keys["alice"], stop)
                doc = "name: big\nsteps:\n" + "".join(STEP % i for i in range(args.steps))
                stop.clear()
                busy: list[float] = []
                with httpx.Client(base_url=base, timeout=300) as other:
                    watcher = threading.Thread(
                        target=lambda: busy.extend(alice_latency(other, keys["alice"], stop))
                    )
                    watcher.start()
                    started = time.perf_counter()
                    r = client.post(
                        "/api/v1/workflows",
                        content=doc.encode(),
                        headers={
                            "Authorization": f"Bearer {keys['mallory']}",
                            "content-type": "application/yaml",
                        },
                    )
                    took = time.perf_counter() - started
                    stop.set()
                    watcher.join()
                print(f"mallory's {len(doc):,}-byte document: {r.status_code} in {took:.1f} s")
                for label, times in (("alone", quiet), ("beside mallory", busy)):
                    p50 = statistics.median(times) * 1000 if times else float("nan")
                    top = max(times) * 1000 if times else float("nan")
                    count = f"{len(times):5} requests"
                    print(f"alice {label:15} {count}  p50 {p50:8.1f} ms  max {top:8.1f} ms")
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            kyra.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
