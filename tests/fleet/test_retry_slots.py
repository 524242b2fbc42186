"""A 429's retry on a paced scope goes at the slot the pace gave it, not after the
workflow's blind exponential backoff; a run that comes back long after its slot queues
again instead of adding a request to a later slot (against the real fault server)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kyra.clock import ManualClock
from kyra.demo import FaultServer
from kyra.engine.events import ExecutorObserver, RunInfo
from kyra.engine.fleet import FleetGuard
from kyra.engine.fleet_settings import FleetSettings
from kyra.engine.run_guard import RunGuard
from kyra.engine.waits import LATE_SLOT
from kyra.service import apply_workflow
from kyra.workflows.model import Workflow
from tests.fleet.test_fleet import _app, _workflow


class Retries(ExecutorObserver):
    """The delay the engine chose before each retry."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def on_step_retry(self, run: RunInfo, step_name: str, error: object, delay: float) -> None:
        self.delays.append(delay)


def test_a_429_on_a_paced_scope_is_retried_at_its_slot_not_after_the_backoff(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    kyra = _app(tmp_path / "kyra.db", FleetSettings())
    url = f"{fault_server.url}/pace/line?min_interval=0.1"
    # A backoff of 30 s, 60 s ... would dwarf the upstream's 0.1 s spacing.
    retry = {"max_retries": 6, "backoff": "exponential", "initial_delay": 30, "max_delay": 60}
    try:
        records = [_workflow(kyra, f"w{i}", [url] * 3, retry) for i in range(4)]
        retries = Retries()
        executor = kyra.executor([retries])
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(executor.run, records))
        assert [r.status for r in results] == ["succeeded"] * 4
        assert fault_server.stats()["statuses"].get("429", 0) >= 1  # it met the limit
        assert retries.delays, "no 429 was retried"
        # Every retry of a 429 went at its place in line: never the 30 s backoff.
        assert max(retries.delays) < 5, retries.delays
    finally:
        kyra.close()


def test_a_run_late_for_its_slot_queues_again(tmp_path: Path) -> None:
    clock = ManualClock()
    kyra = _app(tmp_path / "kyra.db", FleetSettings(), clock)
    try:
        fleet: FleetGuard = kyra.fleet
        tenant, url = kyra.tenant.id, "http://api.example.com/v1/send"
        late, punctual = RunGuard(fleet, tenant), RunGuard(fleet, tenant)
        # A 429 paces the scope and takes the retry's slot, due after Retry-After.
        for _ in range(3):
            fleet.acquire(tenant, url, {})
            clock.advance(0.1)
            fleet.observe(tenant, url, 200, {})
        late.after_response(url, 429, {"Retry-After": "1"})
        slot = late.retry_slot()
        assert slot is not None and 0.9 <= slot <= 1.1
        key = fleet.key_of(tenant, url)
        assert key is not None and key in late.reserved
        # The run comes back much later than its slot: it does not go at once ...
        clock.advance(slot + LATE_SLOT + 2.0)
        punctual.before_request(url)  # someone else took the line's next slot
        wait = fleet.acquire(tenant, url, late.reserved)
        assert wait is not None and wait.seconds > 0
        assert late.reserved[key].at > clock.monotonic()  # ... it has a new place in line
    finally:
        kyra.close()


def test_a_request_delay_never_keeps_a_paced_run_from_its_slot(tmp_path: Path) -> None:
    # A workflow's own request_delay sleeps before each request. A run the fleet makes
    # wait comes back for its slot; if the delay slept again counting from the request
    # that never went, the run was late for its slot, queued again, and so on forever
    # (seen in the dashboard tests: a run looping on a /pace upstream).
    with FaultServer() as server:
        kyra = _app(tmp_path / "kyra.db", FleetSettings())
        try:
            doc = {
                "name": "paced",
                "config": {"request_delay": "1s", "retry": {"max_retries": 3}},
                "steps": [
                    {
                        "name": "get",
                        "action": "http_request",
                        "with": {"url": f"{server.url}/pace/slow?min_interval=1"},
                    }
                ],
            }
            record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
            results: list[bool] = []

            def runs() -> None:
                for _ in range(3):
                    results.append(kyra.executor().run(record).succeeded)

            # Three runs side by side: one waits behind the others for its slot.
            workers = [threading.Thread(target=runs, daemon=True) for _ in range(3)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(90)
            looping = sum(worker.is_alive() for worker in workers)
            assert not looping, f"{looping} still looping after 90 s ({len(results)} runs done)"
            assert results == [True] * 9
        finally:
            kyra.close()
