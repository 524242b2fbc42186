"""The fault endpoints' timing rules on an injected clock: exact, and without sleeping."""

from __future__ import annotations

import time

import pytest

from kyra.demo._faults import FaultState, human_format
from kyra.demo._http import Request
from kyra.demo._server import FaultApp
from kyra.engine.ratelimit_headers import read_quota


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def get(app: FaultApp, path: str, **query: str) -> int:
    request = Request("GET", path, {k: [v] for k, v in query.items()}, {})
    return app.handle(request).status


def test_ratelimit_window_rolls_request_by_request() -> None:
    clock = Clock()
    app = FaultApp(FaultState(monotonic=clock))
    limits = {"limit": "2", "window": "10"}
    seen = []
    for t in (0.0, 5.0, 9.9, 10.0, 10.1, 15.0):
        clock.now = t
        seen.append(get(app, "/ratelimit/k", **limits))
    # 0 and 5 accepted; 9.9 over the limit; at 10.0 the t=0 hit left the window; 10.1 is
    # over again (5 and 10 are inside); at 15.0 the t=5 hit left.
    assert seen == [200, 200, 429, 200, 429, 200]


def test_a_leaky_bucket_takes_one_more_request_per_leak() -> None:
    clock = Clock()
    app = FaultApp(FaultState(monotonic=clock))
    limits = {"limit": "2", "window": "2", "style": "shopify"}  # 2 deep, 1 a second
    seen = []
    for t in (0.0, 0.0, 0.0, 0.5, 1.0, 1.1, 2.0):
        clock.now = t
        seen.append(get(app, "/ratelimit/k", **limits))
    # a full bucket at 0; half a request leaked at 0.5 (still full); one at 1.0; full
    # again at 1.1; one more at 2.0.
    assert seen == [200, 200, 429, 429, 200, 429, 200]


@pytest.mark.parametrize("style", ["x", "github", "ietf", "ietf-draft", "shopify"])
def test_every_quota_style_reads_back_as_the_limiters_state(style: str) -> None:
    clock = Clock()
    app = FaultApp(FaultState(monotonic=clock))
    limits = {"limit": "3", "window": "60", "style": style, "bucket": "core"}
    request = Request("GET", "/ratelimit/k", {k: [v] for k, v in limits.items()}, {})
    remaining = []
    for _ in range(3):
        reply = app.handle(request)
        quota = read_quota(dict(reply.headers), time.time())
        remaining.append(quota.remaining)
    assert remaining == [2, 1, 0]
    assert quota.limit == 3 and quota.exhausted
    assert quota.bucket == ("core" if style in ("github", "ietf") else None)


def test_stripe_style_names_its_limiter_only_on_a_429() -> None:
    app = FaultApp(FaultState(monotonic=Clock()))
    query = {"limit": ["1"], "style": ["stripe"], "bucket": ["global-rate"]}
    request = Request("GET", "/ratelimit/k", query, {})
    ok, limited = app.handle(request), app.handle(request)
    assert (ok.status, ok.headers) == (200, [])
    assert ("Stripe-Rate-Limited-Reason", "global-rate") in limited.headers


def test_pace_measures_from_the_last_accepted_request() -> None:
    clock = Clock()
    app = FaultApp(FaultState(monotonic=clock))
    seen = []
    for t in (0.0, 0.5, 0.9, 1.0, 1.5):
        clock.now = t
        seen.append(get(app, "/pace/k", min_interval="1"))
    assert seen == [200, 429, 429, 200, 429]


def test_window_outage_ends_on_time() -> None:
    clock = Clock()
    app = FaultApp(FaultState(monotonic=clock))
    seen = []
    for t in (100.0, 129.9, 130.0):
        clock.now = t
        seen.append(get(app, "/window/k", seconds="30", status="502"))
    assert seen == [502, 502, 200]


def test_human_format() -> None:
    assert human_format("%Y-%m-%d") == "YYYY-MM-DD"
    assert human_format("%d/%m/%Y %H:%M") == "DD/MM/YYYY HH:mm"
