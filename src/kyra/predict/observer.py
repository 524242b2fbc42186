"""Feeds every finished run into the step trends, raises, refreshes and clears the
steps' risks (`kyra.predict.risk`, kinds `latency` and `error_rate`, subject the step)
and proposes the proactive timeout fix (an executor observer: it sees successful runs too,
which healing never does).

One write per run (and a read every `KNOWN_TTL` seconds), whatever the history's
length: the state per step is bounded (`kyra.predict.trends`). A crash here is logged
by the executor's observer fan-out and never fails the run.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from kyra.app import Kyra
from kyra.engine.error_context import ErrorContext
from kyra.engine.events import ExecutorObserver, RunInfo, RunResult
from kyra.healing.settings import HealingSettings
from kyra.predict import trends
from kyra.predict.alerts import Announcer
from kyra.predict.proposal import propose_timeout
from kyra.predict.risk import Reason, Risk, active_risks, clear_risk, raise_risk
from kyra.store import trends as trend_store
from kyra.store import workflows as wf_store
from kyra.store.executions import StepRun
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import effective_config

RECORD_TTL = 30.0
KNOWN_TTL = 5.0
"""Seconds this process trusts the trend state it last wrote (one read per run saved)."""
MAX_OPEN_RUNS = 1000
"""Runs in flight whose steps are held; a run parked for later (no `on_run_finished`
now) is forgotten past this, so a long-lived worker does not grow."""
TIMED_ACTIONS = frozenset({"http_request", "send_email", "slack_message", "teams_message"})
"""Actions bounded by the step's `timeout` (the rest have no timeout to approach)."""


def host_of(step: StepRun) -> str:
    """`host[:port]` of the step's URL, or the action's name when it has none."""
    url = (step.params or {}).get("url")
    if isinstance(url, str):
        try:
            netloc = urlsplit(url).netloc.rpartition("@")[2]
        except ValueError:
            netloc = ""
        if netloc:
            return netloc[:255]
    return step.action


class TrendObserver(ExecutorObserver):
    def __init__(
        self,
        kyra: Kyra,
        settings: HealingSettings | None = None,
        announce: Callable[[Risk], None] | None = None,
    ) -> None:
        self.kyra = kyra
        self.settings = settings or kyra.settings.healing
        self.announce = announce or Announcer(kyra)
        self._lock = threading.Lock()
        self._steps: dict[str, list[StepRun]] = {}
        self._waited: dict[tuple[str, str], float] = {}
        """Seconds each (execution, step) waited for the fleet or a backoff: time the
        upstream was not answering, so not latency."""
        self._records: dict[tuple[str, int, tuple[str, ...]], tuple[float, WorkflowRecord]] = {}
        self._trends: dict[str, tuple[float, dict[str, trend_store.StepTrend]]] = {}
        self._locks: dict[str, threading.Lock] = {}
        """One run at a time folds into a workflow's trends (two threads reading the
        same state and writing it back would lose one run's sample)."""

    def on_step_retry(
        self, run: RunInfo, step_name: str, context: ErrorContext, delay: float
    ) -> None:
        self._add_wait(run, step_name, delay)  # the backoff before the next attempt

    def on_step_wait(
        self, run: RunInfo, step_name: str, seconds: float, kind: str, target: str
    ) -> None:
        if kind != "backoff":  # a parked backoff was counted when the retry was announced
            self._add_wait(run, step_name, seconds)

    def _add_wait(self, run: RunInfo, step_name: str, seconds: float) -> None:
        with self._lock:
            key = (run.execution_id, step_name)
            if key not in self._waited and len(self._waited) >= MAX_OPEN_RUNS:
                self._waited.pop(next(iter(self._waited)))
            self._waited[key] = self._waited.get(key, 0.0) + max(0.0, seconds)

    def on_step_finished(self, run: RunInfo, step: StepRun) -> None:
        waited = self._waited.pop((run.execution_id, step.step_name), 0.0)
        if step.reused:  # an earlier run's output, not a new measurement
            return
        if waited:
            # Pacing, quota, circuit and backoff waits are in the step's duration; the
            # upstream's latency is what is left (a paced step is not a slow one).
            answered = max(0.0, step.duration_ms - waited * 1000)
            step = dataclasses.replace(step, duration_ms=answered)
        with self._lock:
            if run.execution_id not in self._steps and len(self._steps) >= MAX_OPEN_RUNS:
                self._steps.pop(next(iter(self._steps)))
            self._steps.setdefault(run.execution_id, []).append(step)

    def on_run_finished(self, run: RunInfo, result: RunResult) -> None:
        with self._lock:
            steps = self._steps.pop(run.execution_id, [])
        if steps:
            self.observe(run, steps)

    def observe(self, run: RunInfo, steps: list[StepRun]) -> None:
        """Fold one run's steps into their trends; raise, refresh or clear warnings."""
        with self._workflow_lock(run.workflow_id):
            self._observe(run, steps)

    def _workflow_lock(self, workflow_id: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(workflow_id, threading.Lock())

    def _known(self, workflow_id: str) -> dict[str, trend_store.StepTrend]:
        """The workflow's trends as this process last wrote them, read again from the
        store after `KNOWN_TTL` seconds (another process may fold runs in too)."""
        now = time.monotonic()
        cached = self._trends.get(workflow_id)
        if cached is not None and now - cached[0] < KNOWN_TTL:
            return cached[1]
        known = trend_store.load_trends(self.kyra.store, workflow_id)
        with self._lock:
            if len(self._trends) >= MAX_OPEN_RUNS:
                self._trends.clear()
            self._trends[workflow_id] = (now, known)
        return known

    def _observe(self, run: RunInfo, steps: list[StepRun]) -> None:
        store = self.kyra.store
        record = self._record(run)
        known = self._known(run.workflow_id)
        changed: list[trend_store.StepTrend] = []
        for step in steps:
            try:
                spec = record.workflow.step(step.step_name)
            except KeyError:
                continue
            timed = step.action in TIMED_ACTIONS
            timeout = effective_config(record.workflow.config, spec).timeout if timed else 0.0
            trend = known.get(step.step_name) or trend_store.StepTrend(
                run.workflow_id, step.step_name, run.tenant_id
            )
            known[step.step_name] = trend
            trend.host = host_of(step)
            state = trends.TrendState.from_json(trend.state)
            previous = state.at_risk
            sample = trends.Sample(
                duration_s=step.duration_ms / 1000 / max(1, step.attempts),
                timeout_s=timeout,
                failed=step.status == "failed",
                attempts=step.attempts,
            )
            verdict = trends.update(state, sample)
            trend.state = state.to_json()
            # a failed step is healing's to answer (its own timeout remedy); propose ahead
            # only from runs that still succeed
            self._apply(trend, verdict, previous, run, propose=step.status != "failed")
            changed.append(trend)
        if changed:
            try:
                trend_store.save_trends(store, changed)
            except Exception:
                self._trends.pop(run.workflow_id, None)  # not stored: read back what is
                raise

    def _record(self, run: RunInfo) -> wf_store.WorkflowRecord:
        """The run's workflow, read once per config version and step list and at most
        `RECORD_TTL` seconds old (parsing it on every run doubled the engine's CPU per
        run in `bench/engine.py`); a proposal re-reads it."""
        key = (run.workflow_id, run.config_version, run.step_names)
        now = time.monotonic()
        with self._lock:
            cached = self._records.get(key)
        if cached is not None and now - cached[0] < RECORD_TTL:
            return cached[1]
        record = wf_store.get_workflow_by_id(self.kyra.store, run.workflow_id)
        with self._lock:
            if len(self._records) >= MAX_OPEN_RUNS:
                self._records.clear()
            self._records[key] = (now, record)
        return record

    def _apply(
        self,
        trend: trend_store.StepTrend,
        verdict: trends.Assessment,
        previous: str | None,
        run: RunInfo,
        *,
        propose: bool,
    ) -> None:
        """Raise or refresh the step's risk, clear the one it no longer has, propose."""
        store, now = self.kyra.store, self.kyra.clock.now()
        where = {"tenant_id": run.tenant_id, "workflow_id": run.workflow_id}
        if previous is not None and previous != verdict.kind:
            clear_risk(store, **where, kind=previous, subject=trend.step_name, now=now)
            trend.proposal_fix_id, trend.proposal_timeout = None, None
        if verdict.kind is None or not verdict.reason_key:
            return  # not at risk, or a calm run inside the hysteresis (the risk stays)
        values = verdict.values | {"step": trend.step_name, "host": trend.host}
        key = "trend." + verdict.reason_key
        if propose and verdict.propose_timeout and trend.proposal_fix_id is None:
            fresh = wf_store.get_workflow_by_id(store, run.workflow_id)  # the patch's base
            proposed = propose_timeout(
                self.kyra, self.settings, fresh, trend.step_name, run.execution_id, values
            )
            # "" marks a refusal (audited once): not asked again in this episode
            trend.proposal_fix_id, trend.proposal_timeout = proposed or ("", None)
        if verdict.propose_timeout and trend.proposal_fix_id:
            key += ".proposed"
            values |= {"fix": trend.proposal_fix_id[:8], "after": trend.proposal_timeout}
        reason = Reason(key, {k: v for k, v in values.items() if _scalar(v)})
        if raise_risk(
            store, **where, kind=verdict.kind, subject=trend.step_name, reason=reason, now=now
        ):  # a new episode: tell people once (the notifier dedups across processes too)
            for risk in active_risks(store, run.tenant_id, workflow_id=run.workflow_id):
                if (risk.kind, risk.subject) == (verdict.kind, trend.step_name):
                    self.announce(risk)


def _scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool) or value is None
