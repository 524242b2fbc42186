"""The values remedies deal in: a plan (a bounded patch, a re-run delay, a sentence), a
refusal with its reason, and the case a remedy reads (the diagnosis, the failed call,
the workflow's config and history)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.patches import ConfigPatch
from kyra.healing.remedy_text import TEXT
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import ErrorClass
from kyra.i18n import Lang, translate
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Step, WorkflowConfig

StepHistory = Callable[[str], list[dict[str, Any]]]
"""Step name → rendered params of its recent successful runs, newest first."""


@dataclass(frozen=True)
class RemedyPlan:
    """What to change and when to re-run. The summary (`key` + `values`, see `TEXT`) is
    a sentence for audits and notifications; `suggestions` are alternative values a
    person may pick on approval."""

    error_class: ErrorClass
    patch: ConfigPatch
    rerun_delay: float
    key: str
    values: dict[str, Any] = field(default_factory=dict)
    suggestions: list[Any] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    """Where each suggestion came from (`kyra.healing.candidates`), shown on approval."""

    def summary(self, lang: Lang = "en") -> str:
        return translate(TEXT, self.key, lang, **self.values)


@dataclass(frozen=True)
class RemedyFailed:
    """No bounded change can help; the reason is shown to the person asked to act."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)

    def reason(self, lang: Lang = "en") -> str:
        return translate(TEXT, self.key, lang, **self.values)


Remedy = RemedyPlan | RemedyFailed


@dataclass(frozen=True)
class Case:
    """What a remedy reads: the diagnosis, the failed call, the failing step and its
    effective config, the healing limits and the step's recent good params."""

    diagnosis: Diagnosis
    ctx: ErrorContext
    record: WorkflowRecord
    step: Step
    config: WorkflowConfig
    """The failing step's effective config."""
    settings: HealingSettings
    history: StepHistory
    upstream_recovered: bool = False
    """The upstream answered other requests well since the failure (see
    `FleetGuard.recovered_since`)."""
