"""Builds the healer the way every entry point (CLI, worker, API) should."""

from __future__ import annotations

from kyra.app import Kyra
from kyra.healing.events import HealListener
from kyra.healing.healer import Healer
from kyra.healing.settings import HealingSettings


def make_healer(
    kyra: Kyra,
    listeners: list[HealListener] | None = None,
    settings: HealingSettings | None = None,
) -> Healer:
    """A healer on the app's healing settings and LLM tier (`settings.healing`,
    `settings.llm`: off unless a model is configured), traced when `kyra.telemetry` is
    on."""
    listeners = list(listeners or [])
    if kyra.tracing is not None:
        listeners.append(kyra.tracing.healing)
    return Healer(
        kyra,
        settings=settings or kyra.settings.healing,
        llm=kyra.settings.llm,
        listeners=listeners,
    )
