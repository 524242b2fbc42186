"""Healing's sections of the settings tree: the spec's SafetyLimits (`healing`, spec
values as defaults) and the LLM tier diagnosis may consult (`llm`).

Plain models: only `kyra.settings.Settings` reads the environment and `kyra.toml`
(`KYRA_HEALING_<FIELD>`, `KYRA_LLM_<FIELD>`) and hands these down. They live here, not
beside the code using them, so reading settings imports no diagnosis code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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


class HealingSettings(BaseModel):
    """Anti-loop limits, cooldowns, quotas and remedy bounds (`KYRA_HEALING_*`)."""

    model_config = ConfigDict(extra="ignore")

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


MAX_OUTPUT_TOKENS = 500


class ModelPrice(BaseModel):
    """USD per one million tokens."""

    input_per_million: float = Field(ge=0)
    output_per_million: float = Field(ge=0)


DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(input_per_million=0.15, output_per_million=0.60),
    "gpt-4o": ModelPrice(input_per_million=2.50, output_per_million=10.00),
    "gpt-4.1-mini": ModelPrice(input_per_million=0.40, output_per_million=1.60),
    "claude-3-5-haiku-latest": ModelPrice(input_per_million=0.80, output_per_million=4.00),
    "claude-sonnet-4-0": ModelPrice(input_per_million=3.00, output_per_million=15.00),
}


class LLMSettings(BaseModel):
    """How to reach the LLM and what it may cost (`KYRA_LLM_*`; the tier is off unless
    `KYRA_LLM_MODEL` names a model)."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["openai", "anthropic"] = "openai"
    base_url: str | None = None
    """E.g. `http://127.0.0.1:11434/v1` for Ollama; None for the vendor's default."""
    api_key: str = Field(default="", repr=False)
    model: str = "gpt-4o-mini"
    timeout_seconds: float = Field(default=20.0, gt=0, le=120)
    max_output_tokens: int = Field(default=MAX_OUTPUT_TOKENS, ge=50, le=MAX_OUTPUT_TOKENS)
    """The most tokens one diagnosis may answer with (the provider's `max_tokens`)."""
    prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    """Price per model; an unlisted model is priced with `fallback_price`."""
    fallback_price: ModelPrice = ModelPrice(input_per_million=5.0, output_per_million=15.0)
    max_cost_per_diagnosis: float = Field(default=0.02, ge=0)
    json_mode: bool = True
    """Ask OpenAI-compatible servers for `response_format=json_object`."""

    def price(self) -> ModelPrice:
        return self.prices.get(self.model, self.fallback_price)

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """USD for the given token usage."""
        price = self.price()
        return (tokens_in * price.input_per_million + tokens_out * price.output_per_million) / 1e6

    def worst_case_cost(self, prompt_chars: int) -> float:
        """An upper bound before calling: ~1 token per 3 characters in, full output budget."""
        return self.cost(prompt_chars // 3 + 1, self.max_output_tokens)
