"""Telling people that a workflow is at risk: one notification per risk episode.

`announce(risk)` turns a newly raised risk into a `HealEvent` of kind `at_risk` and
hands it to the notifier, which routes it to the tenant's channels (the `at_risk` event
of `kyra notify add --events`), renders it in each channel's language and sends it. The
event's incident is the episode (`risk:<workflow>:<kind>:<subject>:<since>`), so the
notifier's delivery key turns a second announcement of the same episode into a
duplicate, whichever process makes it.

    from kyra.predict.alerts import Announcer
    announce = Announcer(kyra)            # once per process
    if raise_risk(...):                   # True once per episode
        announce(risk)
"""

from __future__ import annotations

import logging

from kyra.app import Kyra
from kyra.healing.events import HealEvent
from kyra.notify.notifier import Notifier
from kyra.predict.risk import Risk

log = logging.getLogger("kyra.predict")


def at_risk_event(risk: Risk) -> HealEvent:
    """The notification event of a risk episode (its reason in both languages: a
    channel may speak another language than the tenant)."""
    return HealEvent(
        kind="at_risk",
        tenant_id=risk.tenant_id,
        workflow_id=risk.workflow_id,
        workflow_name=risk.workflow,
        at=risk.since,
        values={
            "risk_kind": risk.kind,
            "subject": risk.subject,
            "reason_en": risk.reason.text("en"),
            "reason_es": risk.reason.text("es"),
        },
        incident=f"risk:{risk.workflow_id}:{risk.kind}:{risk.subject}:{risk.since.isoformat()}",
    )


class Announcer:
    """Logs a new risk (reason only) and notifies the tenant's channels."""

    def __init__(self, kyra: Kyra, notifier: Notifier | None = None) -> None:
        self.kyra = kyra
        self._notifier = notifier

    @property
    def notifier(self) -> Notifier:
        if self._notifier is None:
            self._notifier = self.kyra.notifier
        return self._notifier

    def __call__(self, risk: Risk) -> None:
        log.warning("workflow %s is at risk: %s", risk.workflow, risk.reason.text("en"))
        self.notifier.on_heal_event(at_risk_event(risk))
