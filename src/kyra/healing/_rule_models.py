"""The pydantic models of a custom rules document (see `kyra.healing.rules`).

Validation raises `ValueError` with a sentence a tenant can act on; the loader adds the
file, line and field path. Bounds are checked against the global ones passed as
validation context (`{"bounds": {...}}`), else against the patches' hard limits.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kyra.engine.error_context import ErrorContext
from kyra.healing._safe_regex import MatchBudget, bounded_search, compile_pattern
from kyra.healing.diagnosis.observe import Observed, normalise_provider
from kyra.healing.patches import (
    HARD_MAX_REQUEST_DELAY,
    HARD_MAX_RETRIES,
    HARD_MAX_RETRY_DELAY,
    HARD_MAX_TIMEOUT,
)
from kyra.healing.taxonomy import ErrorClass, Safety
from kyra.healing.taxonomy import info as class_info

MAX_RULES = 100
MAX_ALTERNATIVES = 20
RULE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
STATUS_CLASS = re.compile(r"^[1-5]xx$")

BOUND_NAMES = ("max_request_delay", "max_timeout", "max_retries", "initial_delay", "max_delay")
HARD_BOUNDS: dict[str, float] = {
    "max_request_delay": HARD_MAX_REQUEST_DELAY,
    "max_timeout": HARD_MAX_TIMEOUT,
    "max_retries": HARD_MAX_RETRIES,
    "initial_delay": HARD_MAX_RETRY_DELAY,
    "max_delay": HARD_MAX_RETRY_DELAY,
}
_RETRY_BOUNDS = ("max_retries", "initial_delay", "max_delay")
BOUNDS_BY_CLASS: dict[ErrorClass, tuple[str, ...]] = {
    ErrorClass.RATE_LIMIT_EXCEEDED: ("max_request_delay", *_RETRY_BOUNDS),
    ErrorClass.TIMEOUT_ERROR: ("max_timeout", *_RETRY_BOUNDS),
    ErrorClass.CONNECTION_TIMEOUT: _RETRY_BOUNDS,
    ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE: _RETRY_BOUNDS,
}
"""Which bounds each class's remedy writes; a bound the remedy never writes is an error
(it would look like a setting while doing nothing)."""
REMEDY_CLASSES = tuple(c for c in ErrorClass if class_info(c).safety is not Safety.RED)
RuleSafety = Literal["auto", "propose", "never"]


def bound_text(name: str, value: float) -> str:
    return f"{value:g}" if name == "max_retries" else f"{value:g} s"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _alternatives(value: Any, what: str) -> Any:
    """A text or a list of texts → a tuple of non-empty texts (any of them may match)."""
    items = value if isinstance(value, list | tuple) else [value]
    if not items or len(items) > MAX_ALTERNATIVES:
        raise ValueError(f"{what} takes one text or a list of 1 to {MAX_ALTERNATIVES} texts")
    for item in items:
        if not isinstance(item, str) or not 0 < len(item.strip()) <= 100:
            raise ValueError(f"{what} must be text of 1 to 100 characters, got {item!r}")
    return tuple(item.strip() for item in items)


class MatchSpec(_Strict):
    """Conditions that must all hold; a list means "any of these"."""

    provider: tuple[str, ...] | None = None
    """Provider name as diagnosis normalises it (`gmail` and `sheets` are `google`)."""
    status: tuple[str, ...] | None = None
    """HTTP status codes (`429`) or classes (`5xx`)."""
    error_code: tuple[str, ...] | None = None
    """The provider's own code (`rateLimitExceeded`), from the diagnosis or the body."""
    error_type: tuple[str, ...] | None = None
    """The error's type as captured (`ReadTimeout`, `RemoteStatusError`)."""
    message: str | None = None
    """A regular expression searched (case-insensitively) in the message and body."""
    step: tuple[str, ...] | None = None
    workflow: tuple[str, ...] | None = None

    _pattern: Any = PrivateAttr(default=None)

    @field_validator("provider", "error_code", "error_type", "step", "workflow", mode="before")
    @classmethod
    def _texts(cls, value: Any, info: ValidationInfo) -> Any:
        return None if value is None else _alternatives(value, str(info.field_name))

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        if value is None:
            return None
        items = value if isinstance(value, list | tuple) else [value]
        if not items or len(items) > MAX_ALTERNATIVES:
            raise ValueError("status takes a code, a class like 5xx, or a list of them")
        out: list[str] = []
        for item in items:
            text = str(item).strip().lower()
            code_ok = not isinstance(item, bool) and text.isdigit() and 100 <= int(text) <= 599
            if not (code_ok or (isinstance(item, str) and STATUS_CLASS.match(text))):
                raise ValueError(
                    f"status must be a code from 100 to 599 or a class like 5xx, got {item!r}"
                )
            out.append(text)
        return tuple(out)

    @field_validator("message")
    @classmethod
    def _safe_pattern(cls, value: str | None) -> str | None:
        if value is not None:
            compile_pattern(value)  # compiled again (from regex's cache) in model_post_init
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> MatchSpec:
        if not any(getattr(self, name) is not None for name in type(self).model_fields):
            raise ValueError(
                "match needs at least one condition (provider, status, error_code, "
                "error_type, message, step or workflow)"
            )
        return self

    def model_post_init(self, context: Any, /) -> None:
        if self.message is not None:
            self._pattern = compile_pattern(self.message)

    def test(
        self, ctx: ErrorContext, observed: Observed, codes: set[str], budget: MatchBudget
    ) -> list[str] | None:
        """The conditions that matched, or None when one does not hold. Structured
        fields are tested first; the pattern, the only costly test, last."""
        matched: list[str] = []
        checks: list[tuple[str, tuple[str, ...] | None, set[str]]] = [
            ("provider", self.provider, {observed.provider}),
            ("status", self.status, _status_keys(observed.status)),
            ("error_code", self.error_code, codes),
            ("error_type", self.error_type, _type_keys(ctx.error_type)),
            ("step", self.step, {ctx.step_name} if ctx.step_name else set()),
            ("workflow", self.workflow, {ctx.workflow_name} if ctx.workflow_name else set()),
        ]
        for name, wanted, actual in checks:
            if wanted is None:
                continue
            keys = {_key(name, item) for item in wanted}
            hit = sorted(keys & actual)
            if not hit:
                return None
            matched.append(f"{name}={hit[0]}")
        if self._pattern is not None:
            texts = (ctx.error_message or "", ctx.body or "")
            if not bounded_search(self._pattern, texts, budget):
                return None
            matched.append("message~pattern")
        return matched


def _key(name: str, item: str) -> str:
    if name == "provider":
        return normalise_provider(item, None)
    if name in ("error_code", "error_type"):
        return item.lower()
    return item


def _status_keys(status: int | None) -> set[str]:
    return set() if status is None else {str(status), f"{str(status)[0]}xx"}


def _type_keys(error_type: str | None) -> set[str]:
    if not error_type:
        return set()
    name = error_type.strip().lower()
    return {name, name.rsplit(".", 1)[-1]}


class RemedySpec(_Strict):
    """The class whose remedy applies, plus optional tighter bounds for it."""

    error_class: ErrorClass = Field(alias="class")
    max_request_delay: float | None = Field(default=None, ge=0)
    max_timeout: float | None = Field(default=None, gt=0)
    max_retries: int | None = Field(default=None, ge=0)
    initial_delay: float | None = Field(default=None, ge=0)
    max_delay: float | None = Field(default=None, ge=0)

    @field_validator("error_class", mode="before")
    @classmethod
    def _remedy_class(cls, value: Any) -> Any:
        names = [c.value for c in REMEDY_CLASSES]
        if isinstance(value, str) and value in {c.value for c in ErrorClass}:
            if class_info(ErrorClass(value)).safety is Safety.RED:
                raise ValueError(
                    f"{value} is RED: Kyra never changes anything for it, so no rule can "
                    f"pick its remedy (GREEN or YELLOW classes: {', '.join(names)})"
                )
            return value
        close = difflib.get_close_matches(str(value), names, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown error class {value!r}{hint}; use one of: {', '.join(names)}")

    @field_validator(*BOUND_NAMES)
    @classmethod
    def _tighten_only(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None:
            return value
        name = str(info.field_name)
        error_class = info.data.get("error_class")
        if error_class is None:
            return value  # the class is already reported
        allowed = BOUNDS_BY_CLASS.get(error_class, ())
        if name not in allowed:
            takes = f"it takes {', '.join(allowed)}" if allowed else "it has no bounds to set"
            raise ValueError(f"{name} does not apply to {error_class.value}: {takes}")
        limits = (info.context or {}).get("bounds") or HARD_BOUNDS
        limit = min(limits.get(name, HARD_BOUNDS[name]), HARD_BOUNDS[name])
        if value > limit:
            raise ValueError(
                f"cannot widen the bound {name} ({bound_text(name, limit)}); "
                "a rule may only lower it"
            )
        initial = info.data.get("initial_delay")
        if name == "max_delay" and initial is not None and initial > value:
            raise ValueError(f"max_delay ({value:g} s) is below initial_delay ({initial:g} s)")
        return value


class Rule(_Strict):
    """One rule: when `match` holds, use the remedy of `remedy.class` within its bounds."""

    name: str
    description: str = Field(default="", max_length=500)
    match: MatchSpec
    remedy: RemedySpec
    safety: RuleSafety = "auto"
    """`auto`: as Kyra decides; `propose`: always ask a person; `never`: change nothing."""
    priority: int = Field(default=0, ge=-1000, le=1000)
    """Higher first; equal priorities keep document order."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not RULE_NAME.match(value):
            raise ValueError(
                "a rule name has 1 to 64 letters, digits, '_', '.' or '-' and starts with a "
                "letter or digit"
            )
        return value

    @field_validator("safety")
    @classmethod
    def _never_more_automatic(cls, value: RuleSafety, info: ValidationInfo) -> RuleSafety:
        remedy = info.data.get("remedy")
        if value == "auto" and remedy is not None:
            colour = class_info(remedy.error_class).safety
            if colour is not Safety.GREEN:
                raise ValueError(
                    f"safety 'auto' cannot make {remedy.error_class.value} automatic: it is a "
                    f"{colour.value} class, a person approves its fixes; use 'propose' or 'never'"
                )
        return value


class RulesDocument(_Strict):
    """A tenant's rules file: `rules:` and an optional format `version: 1`."""

    version: Literal[1] = 1
    rules: list[Rule] = Field(default_factory=list, max_length=MAX_RULES)

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[Rule]) -> list[Rule]:
        first: dict[str, int] = {}
        for index, rule in enumerate(rules):
            if rule.name in first:
                raise ValueError(
                    f"rule name {rule.name!r} is used by rules[{first[rule.name]}] and "
                    f"rules[{index}]"
                )
            first[rule.name] = index
        return rules

    def to_json(self) -> dict[str, Any]:
        """The stored form; validating it again gives the same document."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
