"""Recovery at the limit, against the real fault server: pacing scoped to the limit it
learned from, predictive waits on quota headers, bounded waits that park instead of
holding a worker, circuits that recover with the upstream, and `kyra fleet reset`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from typer.testing import CliRunner

from kyra.app import Kyra, create_app
from kyra.cli import app as cli
from kyra.cli.status import host_status
from kyra.clock import ManualClock
from kyra.demo import FaultServer
from kyra.demo._faults import FaultState
from kyra.demo._server import FaultApp
from kyra.engine.events import ExecutorObserver, RunInfo
from kyra.engine.fleet import FleetGuard
from kyra.engine.fleet_settings import FleetSettings
from kyra.runtime.embedded import EmbeddedRuntime
from kyra.runtime.settings import RuntimeSettings
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store import executions as exec_store
from kyra.store import fleet as fleet_store
from kyra.store import healing as heal_store
from kyra.store import tenants as tenant_store
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Workflow
from tests.waiting import wait_for


def _host(url: str) -> str:
    return url.split("//", 1)[1].split("/", 1)[0]


def _app(db: Path, fleet: FleetSettings, clock: ManualClock | None = None) -> Kyra:
    kyra = create_app(
        Settings(
            database_url=f"sqlite:///{db}",
            home=db.parent,
            secret_key=SecretStr(Fernet.generate_key().decode()),
        ),
        clock=clock,
    )
    kyra.__dict__["fleet"] = FleetGuard(kyra.store, kyra.clock, fleet)
    return kyra


def _workflow(
    kyra: Kyra, name: str, urls: list[str], retry: dict[str, Any], tenant: str | None = None
) -> WorkflowRecord:
    doc = {
        "name": name,
        "config": {"retry": retry},
        "steps": [
            {"name": f"s{i}", "action": "http_request", "with": {"url": url}}
            for i, url in enumerate(urls)
        ],
    }
    record, _ = apply_workflow(kyra, tenant or kyra.tenant.id, Workflow.model_validate(doc))
    return record


class Waits(ExecutorObserver):
    """Every wait a run announced: (kind, target, seconds)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, float]] = []

    def on_step_wait(
        self, run: RunInfo, step_name: str, seconds: float, kind: str, target: str
    ) -> None:
        self.seen.append((kind, target, seconds))


RETRIES = {"max_retries": 8, "backoff": "exponential", "initial_delay": 0.05, "max_delay": 1}


def test_a_limit_on_one_route_never_slows_another_route_of_the_host(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    kyra = _app(tmp_path / "kyra.db", FleetSettings())
    limited_url = f"{fault_server.url}/pace/shared?min_interval=0.2"
    try:
        limited = [_workflow(kyra, f"limited{i}", [limited_url] * 3, RETRIES) for i in range(4)]
        with ThreadPoolExecutor(4) as pool:
            statuses = [r.status for r in pool.map(kyra.executor().run, limited)]
        assert statuses == ["succeeded"] * 4
        assert fault_server.stats()["statuses"].get("429", 0) >= 1  # it did learn from 429s
        # The limited route is paced for this tenant now ...
        fleet = kyra.fleet
        fleet.sync(kyra.tenant.id)
        shown = {(h["host"], h["scope"]): h for h in host_status(kyra)}
        paced = shown[(_host(fault_server.url), "/pace/shared")]
        assert paced["rate_per_second"] and paced["source"] == "429 answers"
        # ... and an unlimited route of the same host is never held back.
        waits = Waits()
        free = _workflow(kyra, "free", [f"{fault_server.url}/ok"] * 5, {"max_retries": 0})
        assert kyra.executor([waits]).run(free).succeeded
        assert waits.seen == []
        assert (_host(fault_server.url), "/ok") not in {
            (h["host"], h["scope"]) for h in host_status(kyra) if h["rate_per_second"]
        }
    finally:
        kyra.close()


@pytest.mark.parametrize(
    ("style", "limits", "per_run"),
    [
        # 4 requests a second, three workflows at once: they wait for each reset
        # instead of spending 429s, whichever dialect announces the quota.
        ("x", "limit=4&window=1", 6),  # X-RateLimit-*, reset as epoch seconds
        ("github", "limit=4&window=1", 6),  # + X-RateLimit-Resource: the limiter's name
        ("ietf", "limit=4&window=1", 6),  # RateLimit: "name";r=..;t=.. + RateLimit-Policy
        ("ietf-draft", "limit=4&window=1", 6),  # RateLimit-Limit/-Remaining/-Reset
        # Shopify's leaky bucket: 40 deep, 2 a second; 48 requests overflow it.
        ("shopify", "limit=40&window=20", 16),
    ],
)
def test_quota_headers_are_spent_without_a_single_429(
    fault_server: FaultServer, tmp_path: Path, style: str, limits: str, per_run: int
) -> None:
    kyra = _app(tmp_path / "kyra.db", FleetSettings())
    url = f"{fault_server.url}/ratelimit/quota?{limits}&style={style}"
    try:
        waits = Waits()
        records = [_workflow(kyra, f"q{i}", [url] * per_run, {"max_retries": 0}) for i in range(3)]
        executor = kyra.executor([waits])
        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(executor.run, records))
        statuses = [r.status for r in results]
        assert statuses == ["succeeded"] * 3
        stats = fault_server.stats()
        assert stats["paths"]["/ratelimit/quota"] == 3 * per_run
        assert stats["statuses"].get("429", 0) == 0
        assert any(kind == "quota" for kind, _, _ in waits.seen)
    finally:
        kyra.close()


def test_routes_a_provider_names_as_one_limiter_share_one_bucket(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    # Stripe-style: two routes draw on one server-side limiter, and only a 429 names it
    # (Stripe-Rate-Limited-Reason, no quota headers). Once a route's 429 names it, the
    # route is paced in that limiter's bucket, not in a bucket of its own.
    kyra = _app(tmp_path / "kyra.db", FleetSettings())
    limits = "limit=5&window=1&style=stripe&bucket=global-rate"
    charges = f"{fault_server.url}/ratelimit/charges?{limits}"
    refunds = f"{fault_server.url}/ratelimit/refunds?{limits}"
    try:
        waits = Waits()
        both = [_workflow(kyra, f"b{i}", [charges, refunds] * 4, RETRIES) for i in range(3)]
        with ThreadPoolExecutor(3) as pool:
            assert all(r.succeeded for r in pool.map(kyra.executor([waits]).run, both))
        assert fault_server.stats()["statuses"].get("429", 0) >= 1  # it was named
        kyra.fleet.sync(kyra.tenant.id)
        paced = {s.scope: s for s in fleet_store.scopes(kyra.store, kyra.tenant.id) if s.rate}
        assert list(paced) == ["bucket:global-rate"], paced
        assert paced["bucket:global-rate"].source == "429 answers"
        assert {target.split()[-1] for _, target, _ in waits.seen} == {"bucket:global-rate"}
    finally:
        kyra.close()


def test_a_hostile_retry_after_is_capped_and_holds_no_worker(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    kyra = _app(tmp_path / "kyra.db", FleetSettings(max_wait_seconds=60))
    other_tenant = tenant_store.ensure_tenant(kyra.store, "other").id
    hostile = f"{fault_server.url}/status/429?header=Retry-After:999999999"
    slow = f"{fault_server.url}/flaky/parked?fail=1&status=429&retry_after=3"
    # One worker thread: a wait that held it would stop everything else.
    runtime = EmbeddedRuntime(
        kyra, RuntimeSettings(concurrency=1, poll_seconds=0.05), schedule=False
    )
    try:
        frozen = _workflow(kyra, "frozen", [hostile], {"max_retries": 3})
        # a second run on the hostile route is not paced at one request per 31 years
        again = _workflow(kyra, "again", [hostile], {"max_retries": 0})
        waiting = _workflow(kyra, "waiting", [slow, f"{fault_server.url}/ok"], {"max_retries": 1})
        mine = _workflow(kyra, "mine", [f"{fault_server.url}/ok"], {"max_retries": 0})
        theirs = _workflow(
            kyra,
            "theirs",
            [f"{fault_server.url}/status/429"],
            {"max_retries": 0},
            tenant=other_tenant,
        )
        with runtime:
            ids = {r.name: runtime.submit(r) for r in (frozen, waiting, mine, theirs, again)}

            def finished(name: str) -> exec_store.ExecutionInfo | None:
                info = exec_store.get_execution(kyra.store, ids[name])
                return info if info.status in ("succeeded", "failed") else None

            hostile_run = wait_for(lambda: finished("frozen"), 20, "the hostile run to end")
            mine_run = wait_for(lambda: finished("mine"), 20, "an unrelated run")
            theirs_run = wait_for(lambda: finished("theirs"), 20, "another tenant's run")
            parked_run = wait_for(lambda: finished("waiting"), 30, "the parked run")
            again_run = wait_for(lambda: finished("again"), 20, "a second hostile run")
        # The hostile wait was refused at once, with the reason, and retried no more.
        assert hostile_run.status == "failed"
        [step] = hostile_run.steps
        assert step.attempts == 1 and "not retried" in step.error["error_message"]
        assert "asked to wait 31.7 years" in step.error["error_message"]  # not "1e+09 s"
        assert again_run.status == "failed" and again_run.steps[0].attempts == 1
        # The 3 s Retry-After was waited out without its worker: the others finished first.
        assert parked_run.status == "succeeded"
        assert mine_run.finished_at < parked_run.finished_at
        assert theirs_run.finished_at < parked_run.finished_at
        assert theirs_run.status == "failed"  # its own 429, no retries: not ours
        # The hostile value froze nothing: the scope is not blocked for years.
        fleet_scopes = {s.scope: s for s in fleet_store.scopes(kyra.store, kyra.tenant.id)}
        assert all(
            s.blocked_until < kyra.clock.now().timestamp() + 60 for s in fleet_scopes.values()
        )
    finally:
        kyra.close()


def test_a_brown_out_costs_about_its_length(tmp_path: Path) -> None:
    # Kyra and the outage share one clock the test owns: a 3 s brown-out, eight workflows
    # retrying through it; the circuit probes, and they resume within ~1 s of its end.
    clock = ManualClock()
    with FaultServer(app=FaultApp(FaultState(monotonic=clock.monotonic))) as server:
        kyra = _app(tmp_path / "kyra.db", FleetSettings(), clock)
        try:
            url = f"{server.url}/window/brownout?seconds=3&status=503"
            retry = {"max_retries": 10, "initial_delay": 0.1, "max_delay": 0.4, "jitter": False}
            records = [_workflow(kyra, f"w{i}", [url], retry) for i in range(8)]
            start = clock.monotonic()
            results = [kyra.executor().run(r) for r in records]
            assert all(r.succeeded for r in results)
            first_ok = clock.monotonic() - start  # manual time: only the waits count
            assert 3.0 <= first_ok <= 4.0, first_ok
            calls = server.stats()["paths"]["/window/brownout"]
            assert calls <= 5 + 6 + 8, calls  # the burst, a few probes, one success each
            kinds = [a.kind for a in heal_store.list_audit(kyra.store, kyra.tenant.id)]
            assert kinds.count("circuit_opened") >= 1 and kinds.count("circuit_closed") == 1
        finally:
            kyra.close()


def test_fleet_reset_clears_what_was_learned_here_and_in_a_running_process(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "kyra.db"
    clock = ManualClock()
    kyra = _app(db, FleetSettings(sync_seconds=1), clock)
    try:
        url = f"{fault_server.url}/status/429?header=Retry-After:30"
        record = _workflow(kyra, "limited", [url], {"max_retries": 0})
        assert kyra.executor().run(record).status == "failed"
        kyra.fleet.sync(kyra.tenant.id)
        [learned] = host_status(kyra)
        assert learned["blocked_for_seconds"] and "Retry-After" in learned["block_reason"]

        monkeypatch.setenv("KYRA_DATABASE_URL", f"sqlite:///{db}")
        monkeypatch.setenv("KYRA_HOME", str(tmp_path))
        monkeypatch.setenv("KYRA_SECRET_KEY", kyra.settings.secret_key.get_secret_value())
        monkeypatch.setenv("KYRA_LANG", "en")
        shown = CliRunner().invoke(cli, ["status", "--json"])
        assert shown.exit_code == 0, shown.output
        assert '"scope": "/status/*"' in shown.output  # the status code is an id-like segment
        # Read by a person in Spanish: one language throughout.
        es = CliRunner().invoke(cli, ["status"], env={"KYRA_LANG": "es", "COLUMNS": "200"})
        assert es.exit_code == 0, es.output
        assert "respuestas 429" in es.output and "cerrado" in es.output
        assert "429 answers" not in es.output and "closed" not in es.output
        assert _host(fault_server.url) in es.output
        reset = CliRunner().invoke(cli, ["fleet", "reset", _host(fault_server.url)])
        assert reset.exit_code == 0, reset.output
        assert "Forgot 1" in reset.output
        assert host_status(kyra) == []
        # The process that learned it forgets it at its next sync: no wait any more.
        clock.advance(1.5)
        waits = Waits()
        ok = _workflow(kyra, "ok", [f"{fault_server.url}/status/429?x=1"], {"max_retries": 0})
        kyra.executor([waits]).run(ok)
        assert waits.seen == []
    finally:
        kyra.close()


def test_a_503_the_upstream_has_since_recovered_from_is_rerun_soon(tmp_path: Path) -> None:
    # Two runs fail inside a 3 s brown-out. Healed before anything answered well, the
    # first re-run waits the spec's 30 s (an outage says nothing of its end). The
    # upstream then answers another run well, its circuit closed; the second failure,
    # healed after that, is a blip among good answers: its re-run goes in 2 s.
    from kyra.healing.healer import Healer
    from kyra.healing.settings import HealingSettings

    clock = ManualClock()
    with FaultServer(app=FaultApp(FaultState(monotonic=clock.monotonic))) as server:
        kyra = _app(tmp_path / "kyra.db", FleetSettings(), clock)
        try:
            url = f"{server.url}/window/brownout?seconds=3&status=503"
            once = {"max_retries": 0}
            first, second, later = (_workflow(kyra, n, [url], once) for n in ("a", "b", "c"))
            failed = [kyra.executor().run(r) for r in (first, second)]
            assert [r.status for r in failed] == ["failed", "failed"]
            healer = Healer(kyra, settings=HealingSettings())

            def rerun_delay(result: Any) -> float:
                outcome = healer.after_run(result)
                assert outcome.action == "rerun", outcome
                assert outcome.rerun_execution_id is not None
                rerun = exec_store.get_execution(kyra.store, outcome.rerun_execution_id)
                return (rerun.run_at - clock.now()).total_seconds()

            assert rerun_delay(failed[0]) == pytest.approx(30.0, abs=0.5)
            clock.advance(3.5)
            assert kyra.executor().run(later).succeeded  # the scope answers well again
            assert rerun_delay(failed[1]) == pytest.approx(2.0, abs=0.5)
        finally:
            kyra.close()
