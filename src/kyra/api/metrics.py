"""`GET /metrics` in Prometheus text format.

Two kinds of caller:
- a tenant's API key sees its own tenant's series;
- the operator token (`KYRA_METRICS_TOKEN`) sees every tenant's series, plus the runtime
  (scheduler lag, live workers) and this process (CPU, memory, file descriptors).
Every tenant series carries a `tenant` label, so one Prometheus job can scrape them all.

Counters (`*_total`, histograms) are read from `metric_counts`, kept on write: they only
go up, and a scrape reads one row per series. Gauges are the current states, each one
aggregate over an indexed column. So a scrape costs the same at 1k and at 100k audit
rows (bench/metrics_scrape.py). A fresh registry per scrape (no process-global
registry), so several apps in one process, and tests, never collide.
"""

from __future__ import annotations

import hmac
import platform
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from kyra import __version__
from kyra.api.auth import BEARER, kyra_of, principal_of
from kyra.api.rates import rates_by_tenant
from kyra.app import Kyra
from kyra.engine.states import WorkflowState
from kyra.healing.lifecycle import FixStatus
from kyra.store import metric_gauges as gauges
from kyra.store.metric_counts import Count, counts

router = APIRouter(tags=["metrics"])

COUNTERS = {
    "kyra_executions_total": "Executions finished, by final status.",
    "kyra_fixes_total": "Fixes reaching each status (proposed, applied, approved...).",
    "kyra_fix_verifications_total": "Fix re-runs verified, by outcome.",
    "kyra_diagnoses_total": "Diagnoses made, by tier.",
    "kyra_ai_tokens_total": "LLM tokens used, by tier.",
    "kyra_ai_cost_usd_total": "Diagnosis cost in USD, by tier.",
}
HISTOGRAMS = {
    "kyra_time_to_repair_seconds": "From the failed execution to the verified re-run.",
    "kyra_diagnosis_latency_seconds": "Diagnosis latency, by tier.",
}


class KyraCollector(Collector):
    """The metrics of some tenants (`tenant_ids`; None: all, with the runtime's)."""

    def __init__(self, kyra: Kyra, tenant_ids: list[str] | None) -> None:
        self.kyra = kyra
        self.tenant_ids = tenant_ids

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "kyra_build_info", "Kyra's version (always 1).", labels=["version", "python"]
        )
        info.add_metric([__version__, platform.python_version()], 1)
        yield info
        names = gauges.tenant_names(self.kyra.store, self.tenant_ids)
        series = [c for c in counts(self.kyra.store, self.tenant_ids) if c.tenant_id in names]
        yield from _counters(series, names)
        yield from _histograms(series, names)
        yield from _rates(series, names)
        yield from self._states(names)
        if self.tenant_ids is None:
            yield from self._runtime()

    def _states(self, names: dict[str, str]) -> Iterator[Metric]:
        store, ids, now = self.kyra.store, self.tenant_ids, self.kyra.clock.now()
        yield _per_tenant(
            "kyra_executions",
            "Executions now queued, waiting or running.",
            "status",
            gauges.ACTIVE,
            gauges.active_executions(store, ids),
            names,
        )
        yield _per_tenant(
            "kyra_queue_depth",
            "Queued executions due now that no worker has claimed yet.",
            "status",
            ("queued",),
            gauges.due_executions(store, ids, now),
            names,
        )
        yield _per_tenant(
            "kyra_workflows",
            "Workflows by state.",
            "state",
            [s.value for s in WorkflowState],
            gauges.workflow_states(store, ids),
            names,
        )
        yield _per_tenant(
            "kyra_fixes_pending",
            "Fixes waiting for approval.",
            "status",
            (FixStatus.PROPOSED.value,),
            gauges.pending_approvals(store, ids),
            names,
        )
        yield _per_tenant(
            "kyra_circuits_open",
            "Upstream hosts whose circuit breaker is open (or probing).",
            "state",
            ("open", "half_open"),
            gauges.open_circuits(store, ids),
            names,
        )

    def _runtime(self) -> Iterator[Metric]:
        store, now = self.kyra.store, self.kyra.clock.now()
        lag = GaugeMetricFamily(
            "kyra_scheduler_lag_seconds", "How late the most overdue trigger is."
        )
        lag.add_metric([], gauges.scheduler_lag(store, now))
        yield lag
        settings = self.kyra.settings.runtime
        grace = timedelta(seconds=max(settings.lease_seconds, 3 * settings.heartbeat))
        live = gauges.live_workers(store, now, grace)
        workers = GaugeMetricFamily(
            "kyra_workers_live", "Runtime processes beating, by kind.", labels=["kind"]
        )
        for kind in sorted({"embedded", "celery", "scheduler", *live}):
            workers.add_metric([kind], live.get(kind, 0))
        yield workers


def _per_tenant(
    name: str,
    doc: str,
    label: str,
    values: object,
    found: gauges.PerTenant,
    names: dict[str, str],
) -> GaugeMetricFamily:
    """A gauge with every (tenant, value) pair, zeros included (absent series confuse
    alerts written as `== 0`)."""
    family = GaugeMetricFamily(name, doc, labels=["tenant", label])
    for tenant_id, tenant in sorted(names.items(), key=lambda kv: kv[1]):
        for value in values:  # type: ignore[attr-defined]
            family.add_metric([tenant, value], found.get((tenant_id, value), 0))
    return family


def _counters(series: list[Count], names: dict[str, str]) -> Iterator[Metric]:
    by_name: dict[str, list[Count]] = defaultdict(list)
    for c in series:
        by_name[c.name].append(c)
    for name, doc in COUNTERS.items():
        keys = sorted({k for c in by_name[name] for k in c.labels})
        family = CounterMetricFamily(name, doc, labels=["tenant", *keys])
        ordered = sorted(by_name[name], key=lambda c: (names[c.tenant_id], *c.labels.items()))
        for c in ordered:
            family.add_metric([names[c.tenant_id], *(c.labels.get(k, "") for k in keys)], c.value)
        yield family


def _rates(series: list[Count], names: dict[str, str]) -> Iterator[Metric]:
    """Learning-mode KPIs derived from the counters above (no extra query)."""
    by_tenant = rates_by_tenant(series)
    rejection = GaugeMetricFamily(
        "kyra_proposal_rejection_ratio",
        "Rejected proposals over proposals decided (spec target: under 0.10).",
        labels=["tenant"],
    )
    success = GaugeMetricFamily(
        "kyra_fix_success_ratio",
        "Fixes verified and kept over fixes whose re-run finished, by error class.",
        labels=["tenant", "error_class"],
    )
    for tenant_id, rates in sorted(by_tenant.items(), key=lambda kv: names[kv[0]]):
        if rates.rejection_ratio is not None:
            rejection.add_metric([names[tenant_id]], rates.rejection_ratio)
        for rate in rates.classes:
            if rate.ratio is not None:
                success.add_metric([names[tenant_id], rate.error_class], rate.ratio)
    yield rejection
    yield success


def _histograms(series: list[Count], names: dict[str, str]) -> Iterator[Metric]:
    for name, doc in HISTOGRAMS.items():
        parts: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, float]] = defaultdict(dict)
        buckets: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, float]] = defaultdict(dict)
        for c in series:
            if not c.name.startswith(name + "_"):
                continue
            suffix = c.name[len(name) + 1 :]
            own = {k: v for k, v in c.labels.items() if k != "le"}
            key = (names[c.tenant_id], tuple(sorted(own.items())))
            if suffix == "bucket":
                buckets[key][c.labels["le"]] = c.value
            else:
                parts[key][suffix] = c.value
        keys = sorted({k for (_, labels) in parts for k, _ in labels})
        family = HistogramMetricFamily(name, doc, labels=["tenant", *keys])
        for (tenant, pairs), sums in sorted(parts.items()):
            values = dict(pairs)
            family.add_metric(
                [tenant, *(values.get(k, "") for k in keys)],
                _cumulative(buckets[(tenant, pairs)]),
                sums.get("sum", 0.0),
            )
        yield family


def _cumulative(own: dict[str, float]) -> list[tuple[str, float]]:
    """Per-bucket counts (each observation in its own bucket) → Prometheus buckets."""
    bounds = sorted((float(le), le) for le in own if le != "+Inf")
    total, out = 0.0, []
    for _, le in bounds:
        total += own[le]
        out.append((le, total))
    out.append(("+Inf", total + own.get("+Inf", 0.0)))
    return out


def _scope(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> list[str] | None:
    """The tenants the caller may see: all (None) for the operator token, else the API
    key's own tenant (401 otherwise, like every route)."""
    token = kyra_of(request).settings.metrics_token
    given = credentials.credentials.strip() if credentials is not None else ""
    if token is not None and given:
        expected = token.get_secret_value().encode()
        if expected and hmac.compare_digest(given.encode(), expected):
            return None
    return [principal_of(request, credentials).tenant_id]


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
def get_metrics(
    request: Request, tenants: Annotated[list[str] | None, Depends(_scope)]
) -> Response:
    """Prometheus metrics: of your tenant with an API key, of every tenant (and of the
    runtime and this process) with the operator token `KYRA_METRICS_TOKEN`."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(KyraCollector(kyra_of(request), tenants))
    if tenants is None:
        registry.register(PROCESS_COLLECTOR)
        registry.register(PLATFORM_COLLECTOR)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
