"""Evaluation metrics for `kyra eval diagnosis` and the tests.

A *dangerous error* is a truly non-GREEN (RED or YELLOW) error diagnosed GREEN, or any
diagnosis marked `auto_reparable` whose true class is not GREEN: the one mistake the
engine must never make. `unknown` counts as RED (it is handled like RED: a person looks).

`evaluate` scores one diagnoser on labelled examples. `cross_validate` measures how the
engine generalizes (see `crossval.py`): the data-derived parts (code tables, model) are
rebuilt per fold and scored only on examples they were not built from.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from pydantic import BaseModel, Field

from kyra.healing.diagnosis.corpus import context_of
from kyra.healing.diagnosis.engine import Diagnoser
from kyra.healing.diagnosis.kb import example_group
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.settings import LLMSettings
from kyra.healing.taxonomy import ErrorClass, Safety, info
from kyra.i18n import Lang


class ClassScore(BaseModel):
    precision: float
    recall: float
    support: int


class Mistake(BaseModel):
    id: str | None
    label: str
    predicted: str
    tier: str
    dangerous: bool


class EvalReport(BaseModel):
    """Everything `kyra eval diagnosis` prints."""

    total: int
    correct: int
    accuracy: float
    dangerous_errors: int
    safety_accuracy: float = 0.0
    unknown: int = 0
    """Diagnoses answered `unknown`."""
    red_total: int = 0
    red_missed: int = 0
    """Truly RED errors diagnosed YELLOW or GREEN."""
    by_provider: dict[str, dict[str, int]] = Field(default_factory=dict)
    """provider group -> {total, correct}, when the examples carry providers."""
    per_class: dict[str, ClassScore]
    safety_confusion: dict[str, dict[str, int]] = Field(
        description="true safety -> predicted safety -> count"
    )
    tiers: dict[str, int]
    latency_ms: dict[str, dict[str, float]]
    total_cost: float
    mistakes: list[Mistake]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def is_dangerous(
    label: ErrorClass, predicted: ErrorClass, auto_reparable: bool, safety: Safety | None = None
) -> bool:
    """A truly non-GREEN error diagnosed GREEN (or auto-repaired)."""
    truth = info(label).safety
    said = safety if safety is not None else info(predicted).safety
    if truth is not Safety.GREEN and said is Safety.GREEN:
        return True
    return auto_reparable and truth is not Safety.GREEN


def evaluate(
    examples: list[dict[str, Any]],
    diagnoser: Diagnoser,
    *,
    lang: Lang = "en",
    llm: LLMSettings | None = None,
) -> EvalReport:
    """Diagnose every labelled example and compute the metrics."""
    results = [diagnoser.diagnose(context_of(e), lang=lang, llm=llm) for e in examples]
    return score(examples, results)


def score(examples: list[dict[str, Any]], results: list[Diagnosis]) -> EvalReport:
    """The metrics of `results`, the diagnoses of `examples` (same order)."""
    pairs: list[tuple[ErrorClass, ErrorClass]] = []
    groups: dict[str, dict[str, int]] = {}
    red_total = red_missed = unknown = 0
    mistakes: list[Mistake] = []
    confusion: dict[str, dict[str, int]] = {s.value: {t.value: 0 for t in Safety} for s in Safety}
    latencies: dict[str, list[float]] = {}
    tiers: Counter[str] = Counter()
    dangerous = 0
    cost = 0.0
    for example, result in zip(examples, results, strict=True):
        label = ErrorClass(example["label"])
        pairs.append((label, result.error_class))
        group = groups.setdefault(example_group(example), {"total": 0, "correct": 0})
        group["total"] += 1
        group["correct"] += result.error_class is label
        unknown += result.error_class is ErrorClass.UNKNOWN
        if info(label).safety is Safety.RED:
            red_total += 1
            red_missed += result.safety is not Safety.RED
        confusion[info(label).safety.value][result.safety.value] += 1
        latencies.setdefault(result.tier.value, []).append(result.latency_ms)
        latencies.setdefault("all", []).append(result.latency_ms)
        tiers[result.tier.value] += 1
        cost += result.estimated_cost
        danger = is_dangerous(label, result.error_class, result.auto_reparable, result.safety)
        dangerous += danger
        if result.error_class is not label:
            mistakes.append(
                Mistake(
                    id=example.get("id"),
                    label=label.value,
                    predicted=result.error_class.value,
                    tier=result.tier.value,
                    dangerous=danger,
                )
            )
    correct = sum(1 for truth, guess in pairs if truth is guess)
    safe_right = sum(confusion[s.value][s.value] for s in Safety)
    per_class: dict[str, ClassScore] = {}
    for cls in ErrorClass:
        tp = sum(1 for t, g in pairs if t is cls and g is cls)
        predicted = sum(1 for _, g in pairs if g is cls)
        support = sum(1 for t, _ in pairs if t is cls)
        if predicted or support:
            per_class[cls.value] = ClassScore(
                precision=tp / predicted if predicted else 0.0,
                recall=tp / support if support else 0.0,
                support=support,
            )
    return EvalReport(
        total=len(pairs),
        correct=correct,
        accuracy=correct / len(pairs) if pairs else 0.0,
        dangerous_errors=dangerous,
        safety_accuracy=safe_right / len(pairs) if pairs else 0.0,
        unknown=unknown,
        red_total=red_total,
        red_missed=red_missed,
        by_provider=dict(sorted(groups.items())),
        per_class=per_class,
        safety_confusion=confusion,
        tiers=dict(tiers),
        latency_ms={
            tier: {"p50": percentile(v, 50), "p95": percentile(v, 95), "n": float(len(v))}
            for tier, v in latencies.items()
        },
        total_cost=round(cost, 6),
        mistakes=mistakes,
    )
