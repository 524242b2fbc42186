"""The healer's decision as a value: classify → **decide** → act.

`decide` looks at a diagnosis, the remedy planned for it and the gate's verdict and
returns what to do (`Apply`, `Propose`, `Attention` or `Blocked`). It reads no store
and writes nothing, so every branch is tested on values; the healer acts on the value.
"""

from __future__ import annotations

from dataclasses import dataclass

from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.gate import GateDecision
from kyra.healing.messages import MESSAGES
from kyra.healing.remedies import RemedyFailed, RemedyPlan
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import Safety
from kyra.i18n import Lang, translate


@dataclass(frozen=True)
class Apply:
    """Kyra changes the config on its own and re-runs."""

    remedy: RemedyPlan


@dataclass(frozen=True)
class Propose:
    """A person approves (or rejects) the change first."""

    remedy: RemedyPlan


@dataclass(frozen=True)
class Attention:
    """Nothing safe to change: a person acts, told why."""

    reason: str
    record_failed: str | None = None
    """When set, an automatic attempt that found no remedy is recorded as a failed fix
    with this (English) reason, so it counts against the anti-loop limits."""


@dataclass(frozen=True)
class Blocked:
    """A safe change exists but a gate limit refuses it (kept as a blocked fix)."""

    remedy: RemedyPlan
    gate: GateDecision


Decision = Apply | Propose | Attention | Blocked


def is_automatic(diagnosis: Diagnosis, settings: HealingSettings) -> bool:
    """GREEN, auto-reparable and confident enough: Kyra may act without asking."""
    return (
        diagnosis.safety is Safety.GREEN
        and diagnosis.auto_reparable
        and diagnosis.confidence >= settings.confidence_threshold
    )


def decide(
    diagnosis: Diagnosis,
    remedy: RemedyPlan | RemedyFailed | None,
    gate: GateDecision | None,
    settings: HealingSettings,
    lang: Lang = "en",
) -> Decision:
    """What to do with a diagnosed failure (`remedy` and `gate` are None for RED)."""
    if diagnosis.safety is Safety.RED or remedy is None or gate is None:
        return Attention(diagnosis.explanation)
    automatic = is_automatic(diagnosis, settings)
    if isinstance(remedy, RemedyFailed):
        reason = translate(MESSAGES, "no_remedy", lang, reason=remedy.reason(lang))
        failed = remedy.reason() if automatic and gate.allowed else None
        return Attention(reason, record_failed=failed)
    if not gate.allowed:
        return Blocked(remedy, gate)
    if not automatic:
        return Propose(remedy)
    if remedy.rerun_delay > settings.max_rerun_delay_seconds:
        return Attention(remedy.summary(lang))
    return Apply(remedy)
