"""A real HTTP server that misbehaves on purpose: rate limits, outages, slowness, bad input.

The demo (`kyra demo`), the end-to-end tests and the benchmarks all point workflows at
it, so healing is shown curing real failures, not mocks. Stdlib only; one thread per
keep-alive connection, so a `/slow` request never blocks the others.

    with FaultServer() as server:               # 127.0.0.1, ephemeral port
        httpx.get(server.url + "/ratelimit/k?limit=2&window=1")
        server.stats()["paths"]                   # {"/ratelimit/k": 1}

    python -m kyra.demo.fault_server --port 8765  # prints the URL on its first line

Endpoints (GET and POST; all reply JSON unless asked otherwise):

    /ok                      200 {"ok": true, "echo": <json body or query>}
    /echo                    200 the method, path, query, headers and body received
    /status/{code}           that status; ?body=text, ?header=Name:Value (repeatable)
    /ratelimit/{key}         ?limit=N&window=S  429 + Retry-After, X-RateLimit-* over N per S
                             (&style=x|github|ietf|ietf-draft|shopify|stripe: the headers of
                             that provider family; &bucket=B: routes sharing one limiter)
    /pace/{key}              ?min_interval=S    429 + Retry-After if < S since last accepted
    /flaky/{key}             ?fail=N&status=503[&retry_after=S]  first N fail, then 200
    /window/{key}            ?seconds=S&status=503[&retry_after=S|auto]  fails for S seconds
                             from the first request (auto: Retry-After = time left)
    /slow, /slow/{key}       ?delay=S[&times=N]  sleeps S (only the first N with a key)
    /ramp/{key}              ?base=S&step=S&after=N&jitter=F[&cap=S&spike=X&spike_every=N&seed=T]
                             request n sleeps min(base + max(0, n-after)*step, cap) * jitter
    /drip                    ?chunks=N&size=B&every=S  200, N chunks of B bytes, one every S
    /big                     ?bytes=N  200, a JSON body of N bytes, streamed
    /dates                   ?format=%Y-%m-%d&field=date  400 invalid_date_format unless parseable
    /require                 ?fields=a,b  400 missing_required_field for the first missing one
                             (&allowed=x,y: the message lists the values accepted)
    /auth                    ?token=T  401 invalid_api_key unless Authorization: Bearer T
    /versioned               ?header=X-API-Version&version=V  400 api_version_mismatch
    /validate                ?field=F&pattern=RE[&kind=parameter|data]  400/422 unless F matches
    /provider/{name}/{case}  canned provider errors (see kyra.demo.provider_errors)
    /_stats (GET), /_reset (POST)
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from kyra.demo._server import FaultApp, FaultServer

__all__ = ["FaultApp", "FaultServer", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run standalone until SIGINT/SIGTERM; the URL is the first line on stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m kyra.demo.fault_server", description="Kyra's fault-injecting server"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with FaultServer(args.host, args.port) as server:
        print(server.url, flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
