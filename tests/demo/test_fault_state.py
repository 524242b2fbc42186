"""The fault endpoints' timing rules on an injected clock: exact, and without sleeping."""

from __future__ import annotations

from kyra.demo._faults import FaultState, human_format
from kyra.demo._http import Request
from kyra.demo._server import FaultApp


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
