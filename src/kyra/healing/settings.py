"""The spec's SafetyLimits as one typed, configurable settings object (spec values as
defaults; `KYRA_HEALING_<FIELD>` in the environment)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TierLimits(BaseModel):
    """What a pricing tier allows each month."""

    monthly_fixes: int = Field(ge=0)
    max_cost: float = Field(ge=0)
    """USD of diagnosis cost per month."""
    safeties: frozenset[str]
    """Safety colours Kyra may act on: GREEN fixes, YELLOW proposals."""
    custom_rules: bool = False


DEFAULT_TIERS: dict[str, TierLimits] = {
    "free": TierLimits(monthly_fixes=5, max_cost=0.25, safeties=frozenset({"GREEN"})),
    "pro": TierLimits(monthly_fixes=50, max_cost=2.50, safeties=frozenset({"GREEN", "YELLOW"})),
    "enterprise": TierLimits(
        monthly_fixes=500,
        max_cost=25.0,
        safeties=frozenset({"GREEN", "YELLOW"}),
        custom_rules=True,
    ),
}


class HealingSettings(BaseSettings):
    """Anti-loop limits, cooldowns, quotas and remedy bounds."""

    model_config = SettingsConfigDict(env_prefix="KYRA_HEALING_", extra="ignore")

    enabled: bool = True
    max_fixes_per_hour: int = Field(default=3, ge=0)
    max_fixes_per_day: int = Field(default=10, ge=0)
    max_attempts_per_error_type: int = Field(default=3, ge=0)
    """Per workflow and error class, within a day."""
    cooldown_seconds: float = Field(default=1800, ge=0)
    """Before repeating a fix of the same error on the same workflow (the first attempt is
    immediate)."""
    confidence_threshold: int = Field(default=80, ge=0, le=100)
    max_cost_per_fix: float = Field(default=0.05, ge=0)
    tenant_burst_limit: int = Field(default=30, ge=1)
    """Tenant circuit breaker: more automatic fixes than this within the burst window
    stops healing for the tenant (unusual volume)."""
    tenant_burst_window_seconds: float = Field(default=600, gt=0)
    watch_executions: int = Field(default=5, ge=1)
    """Executions after a fix over which its effect is watched for rollback."""
    max_request_delay_seconds: float = Field(default=60, gt=0, le=3600)
    max_timeout_seconds: float = Field(default=120, gt=0, le=3600)
    max_rerun_delay_seconds: float = Field(default=3600, gt=0)
    """A re-run further away than this is not a heal; the workflow asks for attention."""
    unavailable_initial_delay_seconds: float = Field(default=30, ge=0)
    unavailable_max_delay_seconds: float = Field(default=300, ge=0)
    unavailable_max_retries: int = Field(default=5, ge=0, le=20)
    unavailable_multiplier: float = Field(default=2.0, ge=1)
    tiers: dict[str, TierLimits] = Field(default_factory=lambda: dict(DEFAULT_TIERS))

    def tier(self, name: str) -> TierLimits:
        return self.tiers.get(name, self.tiers["free"])
