"""The safety gate: every automatic change passes here first.

Each limit is a small predicate over recorded facts (attempt times, usage, switches);
the first that refuses names itself, so a blocked fix always says which limit blocked it.
Time comes from the caller (`now`), so cooldowns and quotas are tested without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kyra.healing.messages import MESSAGES
from kyra.healing.settings import HealingSettings
from kyra.i18n import Lang, translate
from kyra.store import healing as heal_store
from kyra.store.db import Store


@dataclass(frozen=True)
class GateDecision:
    allowed: bool
    limit: str | None = None
    """Machine name of the limit that blocked (`kill_switch`, `per_hour`, ...)."""
    reason: str = ""

    @classmethod
    def allow(cls) -> GateDecision:
        return cls(True)

    @classmethod
    def block(cls, limit: str, reason: str) -> GateDecision:
        return cls(False, limit, reason)


@dataclass(frozen=True)
class GateRequest:
    tenant_id: str
    tier: str
    workflow_id: str
    error_class: str
    safety: str
    confidence: int
    automatic: bool
    """True for a change Kyra makes on its own; False for a person's approval."""


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def check(
    store: Store, settings: HealingSettings, request: GateRequest, now: datetime
) -> GateDecision:
    """Allowed, or blocked by the first limit that refuses (in the order below)."""
    if not settings.enabled:
        return GateDecision.block("disabled", "healing is disabled in the settings")
    switch = heal_store.active_kill_switch(store, request.tenant_id)
    if switch is not None and request.automatic:
        scope = "global" if switch.scope == heal_store.GLOBAL_SCOPE else "tenant"
        return GateDecision.block(
            "kill_switch",
            f"the {scope} kill switch is on" + (f": {switch.reason}" if switch.reason else ""),
        )
    tier = settings.tier(request.tier)
    if request.safety not in tier.safeties:
        return GateDecision.block(
            "tier", f"the {request.tier} tier does not include {request.safety} fixes"
        )
    fixes, cost = heal_store.month_usage(store, request.tenant_id, month_start(now))
    if fixes >= tier.monthly_fixes:
        return GateDecision.block(
            "monthly_quota",
            f"monthly quota reached ({fixes}/{tier.monthly_fixes} fixes, {request.tier} tier)",
        )
    if tier.max_cost > 0 and cost >= tier.max_cost:  # a $0 ceiling only forbids AI spend
        return GateDecision.block(
            "cost_ceiling", f"monthly AI cost ceiling reached (${cost:.2f} of ${tier.max_cost:.2f})"
        )
    if not request.automatic:
        return GateDecision.allow()
    if request.confidence < settings.confidence_threshold:
        return GateDecision.block(
            "confidence",
            f"confidence {request.confidence} is below the automatic-fix "
            f"threshold {settings.confidence_threshold}",
        )
    return _anti_loop(store, settings, request, now)


def _anti_loop(
    store: Store, settings: HealingSettings, request: GateRequest, now: datetime
) -> GateDecision:
    burst = heal_store.attempts_since(
        store,
        tenant_id=request.tenant_id,
        since=now - timedelta(seconds=settings.tenant_burst_window_seconds),
    )
    if len(burst) >= settings.tenant_burst_limit:
        return GateDecision.block(
            "tenant_circuit_breaker",
            f"unusual volume: {len(burst)} fixes for this tenant in "
            f"{settings.tenant_burst_window_seconds / 60:g} min; healing paused for the tenant",
        )
    day = heal_store.attempts_since(
        store, workflow_id=request.workflow_id, since=now - timedelta(days=1)
    )
    hour = [t for t in day if t >= now - timedelta(hours=1)]
    if len(hour) >= settings.max_fixes_per_hour:
        return GateDecision.block(
            "per_hour", f"{len(hour)} fixes in the last hour (limit {settings.max_fixes_per_hour})"
        )
    if len(day) >= settings.max_fixes_per_day:
        return GateDecision.block(
            "per_day", f"{len(day)} fixes in the last day (limit {settings.max_fixes_per_day})"
        )
    same = heal_store.attempts_since(
        store,
        workflow_id=request.workflow_id,
        error_class=request.error_class,
        since=now - timedelta(days=1),
    )
    if len(same) >= settings.max_attempts_per_error_type:
        return GateDecision.block(
            "per_error_type",
            f"{len(same)} attempts at {request.error_class} today "
            f"(limit {settings.max_attempts_per_error_type})",
        )
    if same:
        ready = same[-1] + timedelta(seconds=settings.cooldown_seconds)
        if now < ready:
            return GateDecision.block(
                "cooldown",
                f"the same fix was tried at {same[-1]:%H:%M:%S}; the next attempt "
                f"may run after {ready:%H:%M:%S} UTC (cooldown {settings.cooldown_seconds:g} s)",
            )
    return GateDecision.allow()


def reason_in(decision: GateDecision, lang: Lang) -> str:
    """The gate's reason, in the tenant's language for the limit people meet most (the
    kill switch, with how to lift it); the others keep their figures as written."""
    if decision.limit == "kill_switch":
        _, sep, why = decision.reason.partition(": ")
        return translate(MESSAGES, "gate_kill_switch", lang, why=f": {why}" if sep else "")
    return decision.reason
