"""Cost of the credential-expiry checks on the hot path, once their caches are warm.

Run with `.venv/bin/python bench/credential_watch.py [--n N]`. A real HTTPS server on
loopback (tests/servers/tls.py, a certificate valid for 30 days) answers one request;
the run's `ExchangeWatch` then looks at that response N times (header scan, the peer
certificate read from the TLS session, its SHA-256 compared with the cached one, the
cached verdict), and a run start is timed with one JWT secret referenced. Nothing is
written to the store after the first call. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.predict.test_credential_expiry import make_jwt
from tests.servers.tls import TlsServer

from kyra.app import create_app
from kyra.engine.events import RunInfo
from kyra.predict.watch import CredentialWatch
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store import secrets as secret_store
from kyra.workflows.model import Workflow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20_000)
    n = parser.parse_args().n
    tmp = Path(tempfile.mkdtemp(prefix="kyra-bench-"))
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'kyra.db'}",
        home=tmp / ".kyra",
        secret_key=SecretStr(Fernet.generate_key().decode()),
    )
    with create_app(settings) as app, TlsServer(days=30) as server:
        token = make_jwt(datetime.now(UTC) + timedelta(days=60))
        secret_store.set_secret(app.store, app.box, app.tenant.id, "TOKEN", token)
        step = {
            "name": "get",
            "action": "http_request",
            "with": {"url": server.url, "auth": {"bearer": "{{ secrets.TOKEN }}"}},
        }
        doc = Workflow.model_validate({"name": "bench", "steps": [step]})
        record, _ = apply_workflow(app, app.tenant.id, doc)
        watch = CredentialWatch(app.store, app.clock, warn=timedelta(days=7))
        info = RunInfo("bench", app.tenant.id, record.id, "bench", 1, "manual", 0, ("get",))
        secrets = {"TOKEN": token}
        client = httpx.Client(verify=server.client_context())
        response = client.send(client.build_request("GET", server.url), stream=True)
        tls = response.extensions["network_stream"].get_extra_info("ssl_object")

        def certificate() -> bytes | None:
            return tls.getpeercert(True)  # type: ignore[no-any-return]

        run = watch(info, record, secrets)  # warm: parse once, clear once
        run.after_exchange(server.url, response.headers, certificate)
        started = time.perf_counter()
        for _ in range(n):
            run.after_exchange(server.url, response.headers, certificate)
        exchange = (time.perf_counter() - started) / n
        started = time.perf_counter()
        for _ in range(n):
            watch(info, record, secrets)
        start = (time.perf_counter() - started) / n
        response.close()
        client.close()
    print(f"per HTTPS exchange (warm): {exchange * 1e6:.1f} µs over {n}")
    print(f"per run start, one JWT secret (warm): {start * 1e6:.1f} µs over {n}")


if __name__ == "__main__":
    main()
