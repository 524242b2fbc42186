"""Builds the healer the way every entry point (CLI, worker, API) should."""

from __future__ import annotations

from kyra.app import Kyra
from kyra.healing.diagnosis.llm import llm_settings_from_env
from kyra.healing.events import HealListener
from kyra.healing.healer import Healer
from kyra.healing.settings import HealingSettings


def make_healer(
    kyra: Kyra,
    listeners: list[HealListener] | None = None,
    settings: HealingSettings | None = None,
) -> Healer:
    """A healer with settings from `KYRA_HEALING_*` and the LLM tier from `KYRA_LLM_*`
    (off unless a model is configured), traced when `kyra.telemetry` is on."""
    listeners = list(listeners or [])
    if kyra.tracing is not None:
        listeners.append(kyra.tracing.healing)
    return Healer(
        kyra,
        settings=settings or kyra.healing_settings,
        llm=llm_settings_from_env(),
        listeners=listeners,
    )
