"""The safety gate: every automatic change passes here first.

The gate is a list of small limit objects, each a function of recorded facts and the
time, `(facts, now) -> GateDecision`. `gather` reads the facts once from the store;
`decide` runs the limits in order and the first that refuses names itself, so a blocked
fix always says which limit blocked it. Limits never touch the store, so each is tested
on values, and time comes from the caller (`now`): cooldowns and quotas are tested
without sleeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from kyra.healing.messages import MESSAGES
from kyra.healing.settings import HealingSettings, TierLimits
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


ALLOW = GateDecision.allow()


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


@dataclass(frozen=True)
class Switch:
    """An engaged kill switch as the gate sees it."""

    is_global: bool
    reason: str = ""


@dataclass(frozen=True)
class GateFacts:
    """Everything the limits judge: the request, the settings and what the store says."""

    request: GateRequest
    settings: HealingSettings
    switch: Switch | None = None
    month_fixes: int = 0
    month_cost: float = 0.0
    tenant_attempts: tuple[datetime, ...] = ()
    """Automatic changes for the tenant within the burst window."""
    workflow_attempts: tuple[datetime, ...] = ()
    """Automatic changes on the workflow within the last day."""
    same_class_attempts: tuple[datetime, ...] = ()
    """Of those, the ones at the request's error class (oldest first)."""

    @property
    def tier(self) -> TierLimits:
        return self.settings.tier(self.request.tier)


class Limit(Protocol):
    def __call__(self, facts: GateFacts, now: datetime) -> GateDecision: ...


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# -- the limits ------------------------------------------------------------------------


def enabled(facts: GateFacts, now: datetime) -> GateDecision:
    if facts.settings.enabled:
        return ALLOW
    return GateDecision.block("disabled", "healing is disabled in the settings")


def kill_switch(facts: GateFacts, now: datetime) -> GateDecision:
    """Stops Kyra's own changes; a person's approval still passes."""
    switch = facts.switch
    if switch is None or not facts.request.automatic:
        return ALLOW
    scope = "global" if switch.is_global else "tenant"
    return GateDecision.block(
        "kill_switch",
        f"the {scope} kill switch is on" + (f": {switch.reason}" if switch.reason else ""),
    )


def tier_safety(facts: GateFacts, now: datetime) -> GateDecision:
    request = facts.request
    if request.safety in facts.tier.safeties:
        return ALLOW
    return GateDecision.block(
        "tier", f"the {request.tier} tier does not include {request.safety} fixes"
    )


def monthly_quota(facts: GateFacts, now: datetime) -> GateDecision:
    tier = facts.tier
    if facts.month_fixes < tier.monthly_fixes:
        return ALLOW
    return GateDecision.block(
        "monthly_quota",
        f"monthly quota reached ({facts.month_fixes}/{tier.monthly_fixes} fixes, "
        f"{facts.request.tier} tier)",
    )


def cost_ceiling(facts: GateFacts, now: datetime) -> GateDecision:
    """A $0 ceiling only forbids AI spend, not rule-based fixes."""
    tier = facts.tier
    if tier.max_cost <= 0 or facts.month_cost < tier.max_cost:
        return ALLOW
    return GateDecision.block(
        "cost_ceiling",
        f"monthly AI cost ceiling reached (${facts.month_cost:.2f} of ${tier.max_cost:.2f})",
    )


def confidence(facts: GateFacts, now: datetime) -> GateDecision:
    threshold = facts.settings.confidence_threshold
    if facts.request.confidence >= threshold:
        return ALLOW
    return GateDecision.block(
        "confidence",
        f"confidence {facts.request.confidence} is below the automatic-fix threshold {threshold}",
    )


def tenant_burst(facts: GateFacts, now: datetime) -> GateDecision:
    """The tenant circuit breaker: unusual volume pauses healing for the tenant."""
    settings = facts.settings
    since = now - timedelta(seconds=settings.tenant_burst_window_seconds)
    burst = [t for t in facts.tenant_attempts if t >= since]
    if len(burst) < settings.tenant_burst_limit:
        return ALLOW
    return GateDecision.block(
        "tenant_circuit_breaker",
        f"unusual volume: {len(burst)} fixes for this tenant in "
        f"{settings.tenant_burst_window_seconds / 60:g} min; healing paused for the tenant",
    )


@dataclass(frozen=True)
class PerWindow:
    """At most `limit` automatic changes on the workflow within `window`."""

    name: str
    window: timedelta
    setting: str
    """The HealingSettings field holding the limit."""

    def __call__(self, facts: GateFacts, now: datetime) -> GateDecision:
        limit: int = getattr(facts.settings, self.setting)
        recent = [t for t in facts.workflow_attempts if t >= now - self.window]
        if len(recent) < limit:
            return ALLOW
        span = "hour" if self.window == timedelta(hours=1) else "day"
        return GateDecision.block(
            self.name, f"{len(recent)} fixes in the last {span} (limit {limit})"
        )


def per_error_type(facts: GateFacts, now: datetime) -> GateDecision:
    limit = facts.settings.max_attempts_per_error_type
    same = [t for t in facts.same_class_attempts if t >= now - timedelta(days=1)]
    if len(same) < limit:
        return ALLOW
    return GateDecision.block(
        "per_error_type",
        f"{len(same)} attempts at {facts.request.error_class} today (limit {limit})",
    )


def cooldown(facts: GateFacts, now: datetime) -> GateDecision:
    """The first attempt at an error is immediate; a repeat waits the cooldown."""
    if not facts.same_class_attempts:
        return ALLOW
    last = max(facts.same_class_attempts)
    seconds = facts.settings.cooldown_seconds
    ready = last + timedelta(seconds=seconds)
    if now >= ready:
        return ALLOW
    return GateDecision.block(
        "cooldown",
        f"the same fix was tried at {last:%H:%M:%S}; the next attempt may run after "
        f"{ready:%H:%M:%S} UTC (cooldown {seconds:g} s)",
    )


@dataclass(frozen=True)
class AutomaticOnly:
    """A limit that applies to Kyra's own changes, not to a person's approval."""

    limit: Limit

    def __call__(self, facts: GateFacts, now: datetime) -> GateDecision:
        return self.limit(facts, now) if facts.request.automatic else ALLOW


LIMITS: tuple[Limit, ...] = (
    enabled,
    kill_switch,
    tier_safety,
    monthly_quota,
    cost_ceiling,
    AutomaticOnly(confidence),
    AutomaticOnly(tenant_burst),
    AutomaticOnly(PerWindow("per_hour", timedelta(hours=1), "max_fixes_per_hour")),
    AutomaticOnly(PerWindow("per_day", timedelta(days=1), "max_fixes_per_day")),
    AutomaticOnly(per_error_type),
    AutomaticOnly(cooldown),
)


def decide(facts: GateFacts, now: datetime, limits: Sequence[Limit] = LIMITS) -> GateDecision:
    """Allowed, or blocked by the first limit that refuses (in the order of `limits`)."""
    for limit in limits:
        decision = limit(facts, now)
        if not decision.allowed:
            return decision
    return ALLOW


def gather(
    store: Store, settings: HealingSettings, request: GateRequest, now: datetime
) -> GateFacts:
    """Read the facts the limits judge (attempt times only for automatic changes)."""
    found = heal_store.active_kill_switch(store, request.tenant_id)
    switch = Switch(found.scope == heal_store.GLOBAL_SCOPE, found.reason or "") if found else None
    fixes, cost = heal_store.month_usage(store, request.tenant_id, month_start(now))
    if not request.automatic:
        return GateFacts(request, settings, switch, fixes, cost)
    burst_since = now - timedelta(seconds=settings.tenant_burst_window_seconds)
    day_ago = now - timedelta(days=1)
    return GateFacts(
        request,
        settings,
        switch,
        fixes,
        cost,
        tenant_attempts=tuple(
            heal_store.attempts_since(store, tenant_id=request.tenant_id, since=burst_since)
        ),
        workflow_attempts=tuple(
            heal_store.attempts_since(store, workflow_id=request.workflow_id, since=day_ago)
        ),
        same_class_attempts=tuple(
            heal_store.attempts_since(
                store,
                workflow_id=request.workflow_id,
                error_class=request.error_class,
                since=day_ago,
            )
        ),
    )


def check(
    store: Store, settings: HealingSettings, request: GateRequest, now: datetime
) -> GateDecision:
    """The gate over the store: `decide` on the facts `gather` reads."""
    return decide(gather(store, settings, request, now), now)


def reason_in(decision: GateDecision, lang: Lang) -> str:
    """The gate's reason, in the tenant's language for the limit people meet most (the
    kill switch, with how to lift it); the others keep their figures as written."""
    if decision.limit == "kill_switch":
        _, sep, why = decision.reason.partition(": ")
        return translate(MESSAGES, "gate_kill_switch", lang, why=f": {why}" if sep else "")
    return decision.reason
