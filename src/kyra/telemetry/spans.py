"""The spans: one per execution, one per step (its child), one per healing decision
(a child of the failed execution's span). Imported only when tracing is on.

`ExecutionSpans` is an executor observer and `HealingSpans` a heal listener: they see
the events every other observer sees (CLI progress, notifications) and turn them into
spans, so tracing is a subscriber, not calls sprinkled through the engine.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanContext, Status, StatusCode

from kyra import __version__
from kyra.engine.error_context import ErrorContext
from kyra.engine.events import ExecutorObserver, RunInfo, RunResult
from kyra.healing.events import HealEvent, HealListener
from kyra.store.executions import StepRun

REMEMBERED = 10_000
"""Finished execution spans kept so healing decisions can name their parent."""

DECISIONS = {
    "fix_applied": "allowed",
    "proposed": "allowed",
    "blocked": "blocked",
    "needs_attention": "not_applicable",
}
"""Healing events that end a decision, and the gate's verdict they imply."""


def _ns(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000_000)


class Tracing:
    """A tracer provider exporting over OTLP/HTTP, and the observers that feed it."""

    def __init__(self, service_name: str = "kyra") -> None:
        resource = Resource.create({SERVICE_NAME: service_name, SERVICE_VERSION: __version__})
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self.tracer = self.provider.get_tracer("kyra", __version__)
        self._finished: OrderedDict[str, SpanContext] = OrderedDict()
        self._lock = threading.Lock()
        self.executions = ExecutionSpans(self)
        self.healing = HealingSpans(self)

    def remember(self, execution_id: str, context: SpanContext) -> None:
        with self._lock:
            self._finished[execution_id] = context
            while len(self._finished) > REMEMBERED:
                self._finished.popitem(last=False)

    def context_of(self, execution_id: str | None) -> SpanContext | None:
        with self._lock:
            return self._finished.get(execution_id or "")

    def flush(self, timeout_ms: int = 10_000) -> bool:
        """Export every finished span now (tests, and before a short process exits)."""
        return self.provider.force_flush(timeout_ms)


class ExecutionSpans(ExecutorObserver):
    """`kyra.execution` spans with `kyra.step` children."""

    def __init__(self, tracing: Tracing) -> None:
        self.tracing = tracing
        self._runs: dict[str, Span] = {}
        self._steps: dict[tuple[str, int], Span] = {}
        self._lock = threading.Lock()

    def on_run_started(self, run: RunInfo) -> None:
        span = self.tracing.tracer.start_span(
            "kyra.execution",
            kind=trace.SpanKind.INTERNAL,
            attributes={
                "kyra.execution.id": run.execution_id,
                "kyra.workflow.name": run.workflow_name,
                "kyra.workflow.id": run.workflow_id,
                "kyra.tenant.id": run.tenant_id,
                "kyra.trigger": run.trigger,
                "kyra.config_version": run.config_version,
                "kyra.start_step": run.start_step,
            },
        )
        with self._lock:
            self._runs[run.execution_id] = span

    def on_step_started(self, run: RunInfo, index: int, step_name: str) -> None:
        with self._lock:
            parent = self._runs.get(run.execution_id)
        if parent is None:
            return
        span = self.tracing.tracer.start_span(
            "kyra.step",
            context=trace.set_span_in_context(parent),
            attributes={
                "kyra.execution.id": run.execution_id,
                "kyra.step.name": step_name,
                "kyra.step.index": index,
            },
        )
        with self._lock:
            self._steps[(run.execution_id, index)] = span

    def on_step_retry(
        self, run: RunInfo, step_name: str, error: ErrorContext, delay: float
    ) -> None:
        with self._lock:
            spans = [s for (eid, _), s in self._steps.items() if eid == run.execution_id]
        for span in spans:
            span.add_event(
                "retry",
                {"kyra.retry.delay_seconds": delay, **_error_attributes(error)},
            )

    def on_step_finished(self, run: RunInfo, step: StepRun) -> None:
        with self._lock:
            span = self._steps.pop((run.execution_id, step.step_index), None)
        if span is None:
            return
        span.set_attributes(
            {
                "kyra.step.action": step.action,
                "kyra.step.status": step.status,
                "kyra.step.attempts": step.attempts,
                "kyra.step.reused": step.reused,
            }
        )
        if step.status == "failed":
            message = str((step.error or {}).get("error_message", ""))[:500]
            span.set_status(Status(StatusCode.ERROR, message))
        span.end()

    def on_run_failed(self, run: RunInfo, error: ErrorContext) -> None:
        with self._lock:
            span = self._runs.get(run.execution_id)
        if span is not None:
            span.set_attributes(_error_attributes(error))

    def on_run_finished(self, run: RunInfo, result: RunResult) -> None:
        with self._lock:
            span = self._runs.pop(run.execution_id, None)
            open_steps = [k for k in self._steps if k[0] == run.execution_id]
            leftovers = [self._steps.pop(k) for k in open_steps]
        for step_span in leftovers:  # a step that never reported (interrupted)
            step_span.end()
        if span is None:
            return
        span.set_attribute("kyra.execution.status", result.status)
        if result.failed_step:
            span.set_attribute("kyra.failed_step", result.failed_step)
        if result.status == "failed":
            span.set_status(Status(StatusCode.ERROR, f"step {result.failed_step} failed"))
        span.end()
        self.tracing.remember(run.execution_id, span.get_span_context())


def _error_attributes(error: ErrorContext) -> dict[str, Any]:
    attributes: dict[str, Any] = {"kyra.error.step": error.step_name or ""}
    if error.status_code is not None:
        attributes["http.response.status_code"] = error.status_code
    if error.error_type:
        attributes["error.type"] = error.error_type
    return attributes


class HealingSpans(HealListener):
    """`kyra.heal` spans: from the failure detected to the decision taken, with the
    diagnosis (class, safety, confidence, tier), the remedy and the gate's verdict."""

    def __init__(self, tracing: Tracing) -> None:
        self.tracing = tracing
        self._open: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def on_heal_event(self, event: HealEvent) -> None:
        key = event.execution_id or event.incident or ""
        with self._lock:
            pending = self._open.setdefault(key, {"start": event.at, "attributes": {}})
        values = event.values
        if event.kind == "diagnosed":
            pending["attributes"].update(
                {
                    "kyra.heal.error_class": str(values.get("error_class", "")),
                    "kyra.heal.safety": str(values.get("safety", "")),
                    "kyra.heal.confidence": int(values.get("confidence", 0) or 0),
                    "kyra.heal.tier": str(values.get("tier", "")),
                }
            )
        if event.kind not in DECISIONS:
            return
        with self._lock:
            self._open.pop(key, None)
        attributes = {
            **pending["attributes"],
            "kyra.heal.decision": event.kind,
            "kyra.heal.gate": str(values.get("gate") or DECISIONS[event.kind]),
            "kyra.workflow.name": event.workflow_name,
            "kyra.execution.id": event.execution_id or "",
        }
        if values.get("summary"):
            attributes["kyra.heal.remedy"] = str(values["summary"])
        if values.get("reason"):
            attributes["kyra.heal.reason"] = str(values["reason"])[:500]
        if event.fix_id:
            attributes["kyra.fix.id"] = event.fix_id
        parent = self.tracing.context_of(event.execution_id)
        context = trace.set_span_in_context(trace.NonRecordingSpan(parent)) if parent else None
        span = self.tracing.tracer.start_span(
            "kyra.heal",
            context=context,
            attributes=attributes,
            start_time=_ns(pending["start"]),
        )
        span.end(end_time=max(_ns(event.at), _ns(pending["start"])))
