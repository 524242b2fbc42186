"""`/ramp/{key}`: a host that slows down run after run, with normal jitter.

Predictive healing is measured against it (`bench/predictive.py`): request `n` on a key
sleeps `min(base + max(0, n - after) * step, cap)` seconds, times a jitter factor in
`[1 - jitter, 1 + jitter]`, and one request in `spike_every` (0: none) takes `spike`
times as long. The jitter is a pure function of `(seed, key, n)`, so two runs of a
benchmark see the same latencies without sharing a random generator between threads.
"""

from __future__ import annotations

import hashlib
import time

from kyra.demo._faults import MAX_SLOW_SECONDS, FaultState
from kyra.demo._http import Reply, Request


def _unit(seed: str, key: str, number: int) -> float:
    """A uniform number in [0, 1), the same for the same `(seed, key, number)`."""
    digest = hashlib.blake2b(f"{seed}:{key}:{number}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def ramp_delay(req: Request, key: str, number: int) -> float:
    """The delay of request `number` (1 for the first) on `key`, per the query."""
    base = req.number("base", 0.1, high=MAX_SLOW_SECONDS)
    step = req.number("step", 0.0, high=MAX_SLOW_SECONDS)
    after = req.integer("after", 0)
    jitter = req.number("jitter", 0.0, high=0.9)
    spike = req.number("spike", 1.0, low=1.0, high=10.0)
    spike_every = req.integer("spike_every", 0)
    seed = req.arg("seed", "0") or "0"
    cap = req.number("cap", MAX_SLOW_SECONDS, high=MAX_SLOW_SECONDS)
    delay = min(base + max(0, number - after) * step, cap)
    delay *= 1.0 + jitter * (2.0 * _unit(seed, key, number) - 1.0)
    if spike_every and number % spike_every == 0:
        delay *= spike
    return min(delay, MAX_SLOW_SECONDS)


def ramp(state: FaultState, req: Request, key: str) -> Reply:
    """Sleeps the ramp's delay for this request on `key`, then answers 200."""
    number = state.count("ramp:" + key)
    delay = ramp_delay(req, key, number)
    time.sleep(delay)
    return Reply(200, {"ok": True, "key": key, "request": number, "delayed": round(delay, 4)})
