"""`GET /metrics` in Prometheus text format, read from the database on each scrape.

Scoped like every route: the bearer key's tenant only (Prometheus: `authorization:
{credentials: <key>}`). A fresh registry per scrape (no process-global registry), so
several apps in one process, and tests, never collide.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from kyra.api.auth import Auth, kyra_of
from kyra.api.figures import repair_seconds
from kyra.app import Kyra
from kyra.engine.states import ExecutionStatus, WorkflowState
from kyra.store import api_stats
from kyra.store import workflows as wf_store

router = APIRouter(tags=["metrics"])

REPAIR_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 4 * 3600.0)
LATENCY_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0)


def histogram(
    name: str,
    doc: str,
    values: Iterable[float],
    buckets: Sequence[float],
    labels: dict[str, str] | None = None,
    family: HistogramMetricFamily | None = None,
) -> HistogramMetricFamily:
    """A histogram family from raw observations (cumulative buckets, +Inf, sum)."""
    values = list(values)
    counts = [(str(b), float(sum(1 for v in values if v <= b))) for b in buckets]
    counts.append(("+Inf", float(len(values))))
    if family is None:
        family = HistogramMetricFamily(name, doc, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), counts, sum(values))
    return family


class TenantCollector(Collector):
    """Every Kyra metric of one tenant, computed at scrape time."""

    def __init__(self, kyra: Kyra, tenant_id: str) -> None:
        self.kyra = kyra
        self.tenant_id = tenant_id

    def collect(self) -> Iterator[Metric]:
        store, tenant = self.kyra.store, self.tenant_id
        counts = api_stats.execution_counts(store, tenant)
        executions = CounterMetricFamily(
            "kyra_executions", "Executions by status.", labels=["status"]
        )
        for execution_status in ExecutionStatus:
            executions.add_metric([execution_status.value], counts.get(execution_status.value, 0))
        yield executions

        queue = GaugeMetricFamily(
            "kyra_queue_depth", "Executions waiting to run (queued or delayed).", labels=["status"]
        )
        for waiting in ("queued", "waiting"):
            queue.add_metric([waiting], counts.get(waiting, 0))
        yield queue

        states = GaugeMetricFamily("kyra_workflows", "Workflows by state.", labels=["state"])
        by_state: dict[str, int] = defaultdict(int)
        for record in wf_store.list_workflows(store, tenant):
            by_state[record.state] += 1
        for state in WorkflowState:
            states.add_metric([state.value], by_state.get(state.value, 0))
        yield states

        fixes = CounterMetricFamily(
            "kyra_fixes",
            "Fixes by error class, status and outcome.",
            labels=["error_class", "status", "outcome"],
        )
        for error_class, fix_status, outcome, n in api_stats.fix_counts(store, tenant):
            fixes.add_metric([error_class, fix_status, outcome], n)
        yield fixes

        times = (repair_seconds(r) for r in api_stats.repairs(store, tenant))
        yield histogram(
            "kyra_time_to_repair_seconds",
            "From the failed execution to the verified re-run.",
            (t for t in times if t is not None),
            REPAIR_BUCKETS,
        )
        yield from self._diagnoses()

    def _diagnoses(self) -> Iterator[Metric]:
        records = api_stats.diagnoses(self.kyra.store, self.tenant_id)
        by_tier: dict[str, list[api_stats.DiagnosisRecord]] = defaultdict(list)
        for record in records:
            by_tier[record.tier].append(record)
        latency = HistogramMetricFamily(
            "kyra_diagnosis_latency_seconds", "Diagnosis latency by tier.", labels=["tier"]
        )
        tokens = CounterMetricFamily("kyra_ai_tokens", "LLM tokens used.", labels=["tier"])
        cost = CounterMetricFamily("kyra_ai_cost_usd", "Diagnosis cost in USD.", labels=["tier"])
        for tier, items in sorted(by_tier.items()):
            histogram(
                "kyra_diagnosis_latency_seconds",
                "",
                (r.latency_ms / 1000 for r in items),
                LATENCY_BUCKETS,
                {"tier": tier},
                latency,
            )
            tokens.add_metric([tier], sum(r.tokens for r in items))
            cost.add_metric([tier], sum(r.cost for r in items))
        yield latency
        yield tokens
        yield cost


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
def get_metrics(request: Request, who: Auth) -> Response:
    """Prometheus metrics of your tenant."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TenantCollector(kyra_of(request), who.tenant_id))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
