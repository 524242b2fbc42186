"""Cross-workflow learning: how a remedy fared on the same host (for the same error
class) in the tenant's other fixes raises or lowers the confidence of the next one, and
the track record is shown with the diagnosis ("this remedy worked 7 of 8 times on
api.example.com").

Bounded on purpose: the shift is at most `MAX_SHIFT` points and needs `MIN_OUTCOMES`
settled fixes; it only moves `confidence`. Safety, auto-repairability, fix steps and the
patch never change, so a track record can never make a YELLOW or RED error GREEN or
widen a fix; it can only make a GREEN fix wait for a person (a poor record) or let a
GREEN fix with a strong record clear the tenant's threshold. An LLM's answer is never
raised (it stays advice).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis.types import Diagnosis, Tier
from kyra.healing.reasons import Reason, dumps
from kyra.i18n import Catalog, Lang
from kyra.store.db import Store
from kyra.store.learning import Outcomes, remedy_outcomes

MIN_OUTCOMES = 3
"""Settled fixes needed before a track record moves confidence."""
MAX_SHIFT = 10
"""The most a track record adds or removes, in confidence points."""
WINDOW = timedelta(days=90)
"""Only recent outcomes count: a host's behaviour changes."""
MAX_CONFIDENCE = 99

TEXT: Catalog = {
    "record": {
        "en": "This remedy worked {worked} of {total} times on {host}.",
        "es": "Este remedio funcionó {worked} de {total} veces en {host}.",
    },
    "raised": {
        "en": "Confidence raised from {before}% to {after}% by that record.",
        "es": "Ese historial sube la confianza del {before}% al {after}%.",
    },
    "lowered": {
        "en": "Confidence lowered from {before}% to {after}% by that record.",
        "es": "Ese historial baja la confianza del {before}% al {after}%.",
    },
}


def host_of(ctx: ErrorContext) -> str:
    """`host[:port]` of the failed step's URL, or its action when it calls no URL."""
    params = ctx.execution_context.get("params")
    url = params.get("url") if isinstance(params, dict) else None
    if isinstance(url, str):
        try:
            netloc = urlsplit(url).netloc.rpartition("@")[2]
        except ValueError:
            netloc = ""
        if netloc:
            return netloc[:255].lower()
    return (ctx.step_action or "unknown")[:255]


def shift_for(outcomes: Outcomes) -> int:
    """Confidence points to add (or remove) for a track record: the smoothed success
    rate's distance from a coin flip, scaled to at most `MAX_SHIFT`."""
    if outcomes.total < MIN_OUTCOMES:
        return 0
    rate = (outcomes.worked + 1) / (outcomes.total + 2)
    return max(-MAX_SHIFT, min(MAX_SHIFT, round((rate - 0.5) * 2 * MAX_SHIFT)))


def consult(
    store: Store,
    tenant_id: str,
    ctx: ErrorContext,
    diagnosis: Diagnosis,
    remedy: str,
    now: datetime,
    lang: Lang,
) -> Diagnosis:
    """`diagnosis` with the remedy's track record on this host: its confidence moved
    (bounded) and a `learning` record the fix row keeps (host and remedy, so later
    fixes can learn from this one)."""
    host = host_of(ctx)
    outcomes = remedy_outcomes(
        store, tenant_id, diagnosis.error_class.value, host, remedy, now - WINDOW
    )
    shift = shift_for(outcomes)
    if shift > 0 and diagnosis.tier is Tier.LLM:
        shift = 0
    before = diagnosis.confidence
    after = max(0, min(MAX_CONFIDENCE, before + shift)) if shift else before
    reasons: list[Reason] = []
    if outcomes.total:
        reasons.append(
            Reason.of("learn.record", worked=outcomes.worked, total=outcomes.total, host=host)
        )
    if after != before:
        key = "learn.raised" if after > before else "learn.lowered"
        reasons.append(Reason.of(key, before=before, after=after))
    record: dict[str, Any] = {
        "host": host,
        "remedy": remedy,
        "worked": outcomes.worked,
        "total": outcomes.total,
        "base_confidence": before,
        "shift": after - before,
        "reasons": dumps(reasons),
    }
    learned = diagnosis.model_copy(update={"confidence": after, "learning": record})
    return learned.with_reasons(*reasons, lang=lang) if reasons else learned
