"""Healing events: one per arrow of the loop, for the CLI timeline and notifications."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kyra.healing.messages import MESSAGES
from kyra.healing.reasons import localise
from kyra.i18n import Lang, translate

log = logging.getLogger("kyra.healing")


@dataclass(frozen=True)
class HealEvent:
    """`kind` is a message key of `healing.messages`; `values` fill it in."""

    kind: str
    tenant_id: str
    workflow_id: str
    workflow_name: str
    at: datetime
    execution_id: str | None = None
    fix_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    incident: str | None = None
    """The failed execution that opened the incident: one thread of messages per incident."""

    def text(self, lang: Lang = "en") -> str:
        return translate(MESSAGES, self.kind, lang, **localise(self.values, lang))


class HealListener:
    """Receives healing events (CLI timeline, notifiers); a failing listener is logged,
    never fatal to healing."""

    def on_heal_event(self, event: HealEvent) -> None: ...


def emit(listeners: list[HealListener], event: HealEvent) -> None:
    for listener in listeners:
        try:
            listener.on_heal_event(event)
        except Exception:
            log.exception("heal listener %s failed on %s", type(listener).__name__, event.kind)
