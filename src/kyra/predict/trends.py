"""Trend detection per workflow step: latency heading for the step's timeout, and a
rising error rate. Pure functions over a small bounded state, updated once per run.

Why these detectors:

* Latency is read as a ratio of the step's timeout (`duration / timeout`), so one set
  of thresholds fits a 2 s and a 60 s step, and a raised timeout lowers the ratio at once.
* "p95 near the timeout" is the p95 of the last `WINDOW` ratios (with 20 samples, the
  second largest: one stray spike never counts). Crossing `P95_WARN` (80 %) warns, and
  is the point where raising the timeout is proposed.
* A ramp is caught earlier by a trend test: a robust (Theil-Sen) line through the last
  `FIT` ratios, trusted only when its rise across them is `MIN_T` times the residual
  spread (jitter rises little against its own spread) and the level already reached
  `MIN_LEVEL`: at risk when the line, less `JITTER_Z` spreads, reaches the timeout
  within `HORIZON` runs.
* Errors (a failed step, or one that needed retries) feed a one-sided Bernoulli CUSUM:
  each error adds `1 - CUSUM_K`, each clean run takes `CUSUM_K` away, at risk at
  `CUSUM_H`. A lone error every so often decays; a burst does not.

Everything is bounded (a window of `WINDOW` ratios and a few numbers), so a run costs
the same whatever the history's length, and the state is stored as one small JSON value.
A warning clears after `CALM_RUNS` runs in a row with no condition true (hysteresis).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

WINDOW = 20
FIT = 10
MIN_SAMPLES = 8
P95_WARN = 0.8
MIN_LEVEL = 0.3
HORIZON = 12
MIN_T = 3.0
JITTER_Z = 2.0
CUSUM_K = 0.15
CUSUM_H = 2.0
CALM_RUNS = 10
LATENCY = "latency"
ERRORS = "error_rate"


@dataclass(frozen=True)
class Sample:
    """One step execution as the detector sees it."""

    duration_s: float
    timeout_s: float
    failed: bool = False
    attempts: int = 1

    @property
    def error(self) -> bool:
        return self.failed or self.attempts > 1


@dataclass
class TrendState:
    """What is kept per workflow step between runs (see `to_json`)."""

    ratios: list[float] = field(default_factory=list)
    cusum: float = 0.0
    errors: list[int] = field(default_factory=list)
    runs: int = 0
    calm: int = 0
    at_risk: str | None = None
    timeout: float = 0.0
    """The timeout the ratios are relative to (a raised timeout rescales them)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "ratios": [round(r, 5) for r in self.ratios],
            "cusum": round(self.cusum, 5),
            "errors": self.errors,
            "runs": self.runs,
            "calm": self.calm,
            "at_risk": self.at_risk,
            "timeout": self.timeout,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> TrendState:
        data = data or {}
        return cls(
            ratios=[float(r) for r in data.get("ratios", [])][-WINDOW:],
            cusum=float(data.get("cusum", 0.0)),
            errors=[int(e) for e in data.get("errors", [])][-WINDOW:],
            runs=int(data.get("runs", 0)),
            calm=int(data.get("calm", 0)),
            at_risk=data.get("at_risk"),
            timeout=float(data.get("timeout", 0.0)),
        )


@dataclass(frozen=True)
class Assessment:
    """The verdict after one run. `kind` is None when the step is not at risk;
    `values` fill the reason's message (see `kyra.predict.messages`)."""

    kind: str | None
    reason_key: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    p95_ratio: float = 0.0
    propose_timeout: bool = False
    """p95 crossed `P95_WARN` of the timeout: raising it would prevent the failures."""
    changed: bool = False
    """The at-risk verdict differs from the previous run's (raised, moved or cleared)."""


def p95(values: list[float]) -> float:
    """The nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def fit(values: list[float]) -> tuple[float, float, float, float]:
    """A robust line through `values` at x = 0..n-1 (Theil-Sen: the median of pairwise
    slopes, so one spike cannot tilt it): (value at the last x, slope per run, the rise
    across the window in units of the residual spread, the residual spread)."""
    n = len(values)
    slopes = sorted((values[j] - values[i]) / (j - i) for i in range(n) for j in range(i + 1, n))
    slope = _median(slopes)
    level = _median([y + slope * (n - 1 - x) for x, y in enumerate(values)])
    residuals = [abs(y - (level - slope * (n - 1 - x))) for x, y in enumerate(values)]
    spread = 1.4826 * _median(sorted(residuals))
    rise = slope * (n - 1)
    if spread == 0:
        return level, slope, math.inf if slope > 0 else 0.0, 0.0
    return level, slope, rise / spread, spread


def _median(ordered: list[float]) -> float:
    ordered = sorted(ordered)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def update(state: TrendState, sample: Sample) -> Assessment:
    """Fold one step execution into `state` (in place) and say whether it is at risk."""
    if sample.timeout_s > 0 and state.timeout > 0 and sample.timeout_s != state.timeout:
        scale = state.timeout / sample.timeout_s  # the past, against the new timeout
        state.ratios = [r * scale for r in state.ratios]
    state.timeout = sample.timeout_s
    ratio = sample.duration_s / sample.timeout_s if sample.timeout_s > 0 else 0.0
    state.ratios = [*state.ratios, ratio][-WINDOW:]
    state.errors = [*state.errors, int(sample.error)][-WINDOW:]
    state.cusum = max(0.0, state.cusum + (1.0 if sample.error else 0.0) - CUSUM_K)
    state.runs += 1
    found = _latency(state, sample) or _error_rate(state)
    previous = state.at_risk
    if found is not None:
        state.calm = 0
        state.at_risk = found.kind
        return _with_change(found, previous != found.kind)
    state.calm += 1
    if previous is not None and state.calm < CALM_RUNS:
        return Assessment(previous, "", {}, _current_p95(state))
    state.at_risk = None
    return Assessment(None, p95_ratio=_current_p95(state), changed=previous is not None)


def _with_change(found: Assessment, changed: bool) -> Assessment:
    return Assessment(
        found.kind, found.reason_key, found.values, found.p95_ratio, found.propose_timeout, changed
    )


def _current_p95(state: TrendState) -> float:
    return p95(state.ratios) if state.ratios else 0.0


def _latency(state: TrendState, sample: Sample) -> Assessment | None:
    if len(state.ratios) < MIN_SAMPLES:
        return None
    high = p95(state.ratios)
    values = {
        "p95": round(high * sample.timeout_s, 2),
        "timeout": sample.timeout_s,
        "percent": round(high * 100),
    }
    if high >= P95_WARN:
        return Assessment(LATENCY, "latency_p95", values, high, propose_timeout=True)
    level, slope, t, spread = fit(state.ratios[-FIT:])
    if level < MIN_LEVEL or slope <= 0 or t < MIN_T:
        return None
    # Jitter makes the first timeout come before the line reaches it: aim below.
    runs_left = (1.0 - level - JITTER_Z * spread) / slope
    if runs_left > HORIZON:
        return None
    values |= {"runs": max(1, math.ceil(runs_left)), "level": round(level * sample.timeout_s, 2)}
    return Assessment(LATENCY, "latency_rising", values, high)


def _error_rate(state: TrendState) -> Assessment | None:
    if state.cusum < CUSUM_H:
        return None
    recent = state.errors[-10:]
    values = {"errors": sum(recent), "runs": len(recent)}
    return Assessment(ERRORS, "error_rate", values, _current_p95(state))
