"""The `Diagnosis` answer and the validated facts a diagnosis may carry.

Facts come from attacker-reachable text (error messages, bodies), so each one is
validated to a narrow shape here: a field path that looks like an identifier path, a
strftime format made only of whitelisted tokens, a bounded number of seconds. A value
that does not fit is dropped, never widened.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kyra.healing.reasons import Reason, dumps, render
from kyra.healing.taxonomy import Classification, ErrorClass, FixStep, Safety, Severity
from kyra.i18n import Lang

FIELD_PATH = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_-]{0,63}(?:(?:\.[A-Za-z_][A-Za-z0-9_-]{0,63})|\[\d{1,4}\]){0,7}$"
)
STRFTIME_TOKENS = frozenset("YymdHIMSfpbBaAjzZ")
STRFTIME_LITERALS = frozenset("-/:. T,")
API_VERSION = re.compile(r"^(?:v?\d{1,4}(?:\.\d{1,4}){0,2}|\d{4}-\d{2}(?:-\d{2})?(?:\.\w{1,12})?)$")
MAX_RETRY_AFTER_SECONDS = 86_400.0
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Tier(StrEnum):
    """Which tier answered: signature rules, the local model, or the LLM."""

    RULES = "rules"
    MODEL = "model"
    LLM = "llm"


def is_safe_strftime(value: str) -> bool:
    """True when `value` is only whitelisted `%` tokens and separator literals."""
    if not 2 <= len(value) <= 64 or "%" not in value:
        return False
    i = 0
    while i < len(value):
        char = value[i]
        if char == "%":
            if i + 1 >= len(value) or value[i + 1] not in STRFTIME_TOKENS:
                return False
            i += 2
            continue
        if char not in STRFTIME_LITERALS:
            return False
        i += 1
    return True


class Facts(BaseModel):
    """Structured values extracted from the error, each validated to a narrow shape."""

    model_config = ConfigDict(extra="forbid")

    field: str | None = None
    """The missing or invalid field, as an identifier path (`contact.email`, `items[0].sku`)."""
    retry_after_seconds: float | None = Field(default=None, gt=0, le=MAX_RETRY_AFTER_SECONDS)
    """How long the provider asked us to wait."""
    expected_format: str | None = None
    """The strftime format the service expects, e.g. `%Y-%m-%d`."""
    api_version: str | None = None
    """An API version the provider named (`v2`, `2024-06-20`)."""
    provider_code: str | None = Field(default=None, max_length=64, pattern=r"^[\w.:-]+$")
    """The provider's own error code or reason, when one decided."""
    date_candidates: list[str] | None = Field(default=None, min_length=2, max_length=2)
    """Both ISO readings of an ambiguous date in the error (`03/12/2026`): not GREEN."""
    relative_date: bool | None = None
    """The rejected value is a relative date (`"next friday"`, `"mañana 10:00"`): Kyra
    never turns one into a fixed date (it would depend on when the step ran): not GREEN."""

    @field_validator("date_candidates")
    @classmethod
    def _iso_dates(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not all(ISO_DATE.match(v) for v in value):
            raise ValueError("date candidates must be ISO dates")
        return value

    @field_validator("field")
    @classmethod
    def _field_path(cls, value: str | None) -> str | None:
        if value is not None and not FIELD_PATH.match(value):
            raise ValueError("field must be an identifier path")
        return value

    @field_validator("expected_format")
    @classmethod
    def _strftime(cls, value: str | None) -> str | None:
        if value is not None and not is_safe_strftime(value):
            raise ValueError("expected_format must use whitelisted strftime tokens only")
        return value

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is not None and not API_VERSION.match(value):
            raise ValueError("api_version must look like v2, 1.1 or 2024-06-20")
        return value

    @classmethod
    def safe(cls, **values: Any) -> Facts:
        """Build facts keeping only the values that validate; the rest are dropped."""
        kept: dict[str, Any] = {}
        for key, value in values.items():
            if value is None:
                continue
            try:
                cls(**{key: value})
            except ValueError:
                continue
            kept[key] = value
        return cls(**kept)


class Evidence(BaseModel):
    """What decided a diagnosis, for `kyra diagnose --explain` and audits."""

    signature: str | None = None
    """Id of the signature rule that matched, when the rules tier answered."""
    matched: list[str] = Field(default_factory=list)
    """The conditions that matched (`status=429`, `code=rateLimitExceeded`, ...)."""
    other_matches: list[str] = Field(default_factory=list)
    model_scores: dict[str, float] = Field(default_factory=dict)
    """The local model's top class probabilities."""
    model_features: list[str] = Field(default_factory=list)
    """The features that pushed the model towards its answer."""
    notes: list[str] = Field(default_factory=list)


class RootCause(BaseModel):
    """The earlier step whose output made this step fail (see `diagnosis/chains.py`).

    Paths come from the workflow's own templates, never from upstream data, so an
    upstream cannot put text of its choosing here.
    """

    model_config = ConfigDict(extra="forbid")

    step: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
    """The step whose output was wrong."""
    path: str = Field(max_length=300)
    """Where in its output: `steps.fetch.output.json.user.email`."""
    reason: Literal["null", "empty", "wrong_type", "missing_key"]
    found: str = Field(default="", max_length=16)
    """What was there instead: `null`, `list`, `str`, ... (a type name, never a value)."""
    field: str | None = Field(default=None, max_length=300)
    """The failing step's parameter the template fed (`json.email`)."""

    def to_output(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class Diagnosis(BaseModel):
    """The answer downstream code trusts: class, safety, repairability and how we know."""

    error_class: ErrorClass
    safety: Safety
    classification: Classification
    severity: Severity
    auto_reparable: bool
    confidence: int = Field(ge=0, le=100)
    fix_steps: list[FixStep]
    estimated_cost: float = Field(ge=0)
    """What this diagnosis cost (USD); 0 unless the LLM answered."""
    explanation: str
    """The reasons rendered in the language asked for (kept for readers of the text)."""
    tier: Tier
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    facts: Facts = Field(default_factory=Facts)
    evidence: Evidence = Field(default_factory=Evidence)
    root_cause: RootCause | None = None
    """An earlier step whose output caused this failure (an error chain), if any."""
    learning: dict[str, Any] | None = None
    """The remedy's track record on this host (`kyra.healing.learning`), once consulted."""
    reasons: list[Reason] = Field(default_factory=list)
    """The explanation as language-neutral sentences: each output renders them in its
    own language (`reasons.render`), whatever language the diagnosis was made in."""

    def with_reasons(self, *more: Reason, lang: Lang = "en") -> Diagnosis:
        """A copy with `more` reasons appended (and the text extended in `lang`)."""
        text = " ".join(p for p in (self.explanation, render(more, lang)) if p)
        return self.model_copy(update={"reasons": [*self.reasons, *more], "explanation": text})

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    def to_output(self) -> dict[str, Any]:
        """The `kyra diagnose` JSON contract (fixed keys first, extras after)."""
        facts = self.facts.model_dump(exclude_none=True)
        return {
            "error_class": self.error_class.value,
            "safety": self.safety.value,
            "classification": self.classification.value,
            "severity": self.severity.value,
            "auto_reparable": self.auto_reparable,
            "confidence": self.confidence,
            "fix_steps": [step.value for step in self.fix_steps],
            "estimated_cost": self.estimated_cost,
            "explanation": self.explanation,
            "tier": self.tier.value,
            "tokens": self.tokens,
            "latency_ms": round(self.latency_ms, 3),
            "facts": facts,
            **({"root_cause": self.root_cause.to_output()} if self.root_cause else {}),
            **({"reasons": dumps(self.reasons)} if self.reasons else {}),
            **({"learning": self.learning} if self.learning else {}),
        }
