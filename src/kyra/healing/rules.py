"""Custom healing rules: a tenant's own "for this error, use that remedy" (enterprise tier).

A rule matches structured fields of a failure (provider, status, error code, error type,
step, workflow) and optionally a message pattern, and picks the remedy of one GREEN or
YELLOW error class. A rule can only make Kyra *more* careful:

- its bounds (`max_request_delay`, `max_timeout`, `max_retries`, `initial_delay`,
  `max_delay`) are ceilings at or below the global ones: a larger value is a load error,
  and at decision time the smaller of rule and global wins, so lowering a global bound
  later still binds old rules;
- `safety` can ask for a proposal or for no change, never for automation: a fix is
  automatic only when Kyra's own diagnosis *and* the rule's class are GREEN;
- a rule names a class, never an operation: `plan_remedy` still builds the typed patch
  from validated facts, and `RuleDecision.constrain` clamps it to the rule's bounds.

Reading documents (with file/line/field errors) lives in `kyra.healing.rules_loader`.
The healer calls `rules_for_tenant(store, tenant, settings).decide(ctx, diagnosis, ...)`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from kyra.engine.error_context import ErrorContext
from kyra.healing._rule_models import BOUND_NAMES, HARD_BOUNDS, Rule, RulesDocument
from kyra.healing._safe_regex import MatchBudget
from kyra.healing.diagnosis.facts import extract
from kyra.healing.diagnosis.observe import Observed, observe
from kyra.healing.diagnosis.types import Diagnosis, Facts
from kyra.healing.patches import ConfigPatch, SetRequestDelay, SetRetry, SetTimeout
from kyra.healing.reasons import Reason
from kyra.healing.remedies import Remedy, RemedyFailed
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import ErrorClass, Safety, info
from kyra.i18n import Catalog, Lang
from kyra.store import rules as rules_store
from kyra.store.db import Store
from kyra.store.tenants import TenantInfo

log = logging.getLogger("kyra.healing.rules")

__all__ = [
    "EMPTY_RULES",
    "Bounds",
    "RuleDecision",
    "RuleMatch",
    "RuleSet",
    "apply_rule",
    "disposition",
    "global_bounds",
    "match_rule",
    "rules_for_tenant",
]

TEXT: Catalog = {
    "rule": {
        "en": "Custom rule '{rule}' applies: {error_class}.",
        "es": "Se aplica la regla personalizada '{rule}': {error_class}.",
    },
    "never": {
        "en": "Custom rule '{rule}' forbids any change for this error: a person decides.",
        "es": "La regla personalizada '{rule}' prohíbe cambios para este error: decide una "
        "persona.",
    },
    "capped": {
        "en": "Kyra's own diagnosis was not GREEN, so the rule's remedy is only proposed.",
        "es": "El diagnóstico de Kyra no era VERDE, así que el remedio de la regla solo se "
        "propone.",
    },
    "undecided": {
        "en": "The custom rules could not be evaluated for this error ({why}); Kyra asks "
        "before changing anything.",
        "es": "No se pudieron evaluar las reglas personalizadas para este error ({why}); "
        "Kyra pregunta antes de cambiar nada.",
    },
}

_ORDER = {Safety.GREEN: 0, Safety.YELLOW: 1, Safety.RED: 2}
Disposition = Literal["auto", "propose", "never"]


@dataclass(frozen=True)
class Bounds:
    """Ceilings a remedy may write: seconds, except `max_retries`."""

    max_request_delay: float
    max_timeout: float
    max_retries: int
    initial_delay: float
    max_delay: float

    def tightened(self, rule: Rule) -> Bounds:
        """The smaller of these bounds and the rule's, per bound (never larger)."""
        values: dict[str, Any] = asdict(self)
        for name in BOUND_NAMES:
            own = getattr(rule.remedy, name)
            if own is not None:
                values[name] = min(values[name], own)
        values["initial_delay"] = min(values["initial_delay"], values["max_delay"])
        return Bounds(**values)

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def global_bounds(settings: HealingSettings) -> Bounds:
    """The bounds every remedy obeys: the settings, capped by the patches' hard limits."""
    return Bounds(
        max_request_delay=min(settings.max_request_delay_seconds, HARD_BOUNDS["max_request_delay"]),
        max_timeout=min(settings.max_timeout_seconds, HARD_BOUNDS["max_timeout"]),
        max_retries=int(HARD_BOUNDS["max_retries"]),
        initial_delay=HARD_BOUNDS["initial_delay"],
        max_delay=HARD_BOUNDS["max_delay"],
    )


@dataclass(frozen=True)
class RuleMatch:
    """The first rule (by priority, then document order) whose conditions all hold."""

    rule: Rule
    index: int
    matched: tuple[str, ...]
    observed: Observed


@dataclass(frozen=True)
class RuleDecision:
    """What a rule changes in the healer's path. `diagnosis` is the one to act on (the
    rule's class, the final safety, facts for that class); `settings` carry the tightened
    bounds for `plan_remedy`; `constrain` clamps the planned patch to the same bounds.
    `rule_name` is None when the rules could not be evaluated (then Kyra only proposes)."""

    rule_name: str | None
    error_class: ErrorClass
    diagnosis: Diagnosis
    settings: HealingSettings
    bounds: Bounds
    safety_override: Literal["propose", "never"] | None
    matched: tuple[str, ...] = ()

    def constrain(self, remedy: Remedy) -> Remedy:
        """`remedy` with every bounded operation clamped to `bounds` (a no-op when the
        planner already respected them); summary values follow the clamped numbers."""
        if isinstance(remedy, RemedyFailed):
            return remedy
        ops = tuple(_clamp(op, self.bounds) for op in remedy.patch.ops)
        if ops == remedy.patch.ops:
            return remedy
        values = dict(remedy.values)
        for op in ops:
            if isinstance(op, SetRequestDelay | SetTimeout) and "after" in values:
                values["after"] = op.seconds
            if isinstance(op, SetRetry) and "retries" in values:
                values.update(initial=op.initial_delay, max=op.max_delay, retries=op.max_retries)
        return replace(remedy, patch=ConfigPatch(ops=ops), values=values)

    def summary(self) -> str:
        """One line for the audit trail."""
        who = f"custom rule {self.rule_name!r}" if self.rule_name else "custom rules undecided"
        return f"{who}: {self.error_class.value} ({self.diagnosis.safety.value})"

    def to_json(self) -> dict[str, Any]:
        """For audit details and `kyra rules test --json`."""
        return {
            "rule": self.rule_name,
            "matched": list(self.matched),
            "error_class": self.error_class.value,
            "safety": self.diagnosis.safety.value,
            "safety_override": self.safety_override,
            "bounds": self.bounds.as_dict(),
        }


def _clamp(op: Any, bounds: Bounds) -> Any:
    if isinstance(op, SetRequestDelay) and op.seconds > bounds.max_request_delay:
        return op.model_copy(update={"seconds": bounds.max_request_delay})
    if isinstance(op, SetTimeout) and op.seconds > bounds.max_timeout:
        return op.model_copy(update={"seconds": bounds.max_timeout})
    if isinstance(op, SetRetry):
        clamped = {
            "max_retries": min(op.max_retries, bounds.max_retries),
            "initial_delay": min(op.initial_delay, bounds.initial_delay, bounds.max_delay),
            "max_delay": min(op.max_delay, bounds.max_delay),
        }
        if any(getattr(op, key) != value for key, value in clamped.items()):
            return op.model_copy(update=clamped)
    return op


def match_rule(
    rules: Sequence[Rule],
    ctx: ErrorContext,
    diagnosis: Diagnosis,
    budget: MatchBudget | None = None,
) -> RuleMatch | None:
    """The first matching rule by priority (highest first), then document order.

    When a message pattern runs out of time the answer is unknowable (that rule might
    have matched), so matching stops: `budget.timed_out` tells the caller.
    """
    observed = observe(ctx)
    budget = budget or MatchBudget()
    codes = set(observed.codes)
    if diagnosis.facts.provider_code:
        codes.add(diagnosis.facts.provider_code.lower())
    ordered = sorted(enumerate(rules), key=lambda pair: (-pair[1].priority, pair[0]))
    for index, rule in ordered:
        matched = rule.match.test(ctx, observed, codes, budget)
        if budget.timed_out:
            return None
        if matched is not None:
            return RuleMatch(rule, index, tuple(matched), observed)
    return None


def apply_rule(
    match: RuleMatch,
    diagnosis: Diagnosis,
    ctx: ErrorContext,
    settings: HealingSettings,
    lang: Lang = "en",
) -> RuleDecision:
    """The decision a matched rule makes: its class, the most careful safety of (Kyra's
    diagnosis, the class, the rule), and settings tightened to the rule's bounds."""
    rule = match.rule
    error_class = rule.remedy.error_class
    row = info(error_class)
    safety = row.safety
    notes = [Reason.of("rule.rule", rule=rule.name, error_class=error_class.value)]
    if diagnosis.safety is not Safety.GREEN and safety is Safety.GREEN:
        safety = Safety.YELLOW  # a rule never makes a YELLOW or RED diagnosis automatic
        notes.append(Reason.of("rule.capped"))
    if rule.safety == "propose":
        safety = _careful(safety, Safety.YELLOW)
    if rule.safety == "never":
        safety = Safety.RED
        notes.append(Reason.of("rule.never", rule=rule.name))
    changed = error_class is not diagnosis.error_class
    facts = _facts_for(diagnosis, ctx, match.observed, error_class) if changed else diagnosis.facts
    evidence = diagnosis.evidence.model_copy(
        update={
            "matched": [*diagnosis.evidence.matched, *(f"rule:{m}" for m in match.matched)],
            "notes": [*diagnosis.evidence.notes, f"custom rule {rule.name!r}"],
        }
    )
    rewritten = diagnosis.model_copy(
        update={
            "error_class": error_class,
            "safety": safety,
            "classification": row.classification,
            "severity": row.severity if changed else diagnosis.severity,
            "auto_reparable": safety is Safety.GREEN,
            "fix_steps": list(row.default_steps) if changed else diagnosis.fix_steps,
            "facts": facts,
            "evidence": evidence,
        }
    ).with_reasons(*notes, lang=lang)
    bounds = global_bounds(settings).tightened(rule)
    override = None if rule.safety == "auto" else rule.safety
    return RuleDecision(
        rule.name,
        error_class,
        rewritten,
        tighten(settings, bounds),
        bounds,
        override,
        match.matched,
    )


def tighten(settings: HealingSettings, bounds: Bounds) -> HealingSettings:
    """A copy of `settings` whose remedy bounds are no larger than `bounds`."""
    return settings.model_copy(
        update={
            "max_request_delay_seconds": bounds.max_request_delay,
            "max_timeout_seconds": bounds.max_timeout,
            "unavailable_max_retries": min(settings.unavailable_max_retries, bounds.max_retries),
            "unavailable_max_delay_seconds": min(
                settings.unavailable_max_delay_seconds, bounds.max_delay
            ),
            "unavailable_initial_delay_seconds": min(
                settings.unavailable_initial_delay_seconds, bounds.initial_delay
            ),
        }
    )


def _careful(a: Safety, b: Safety) -> Safety:
    return a if _ORDER[a] >= _ORDER[b] else b


def _facts_for(
    diagnosis: Diagnosis, ctx: ErrorContext, observed: Observed, error_class: ErrorClass
) -> Facts:
    """Facts for the rule's class (e.g. Retry-After for a rate limit), extracted by the
    same validated extractor diagnosis uses, merged over what diagnosis already found."""
    fresh = extract(ctx, observed, error_class, diagnosis.facts.provider_code)
    return Facts(
        **{
            **diagnosis.facts.model_dump(exclude_none=True),
            **fresh.model_dump(exclude_none=True),
        }
    )


def _undecided(
    diagnosis: Diagnosis, settings: HealingSettings, why: str, lang: Lang
) -> RuleDecision:
    safety = _careful(diagnosis.safety, Safety.YELLOW)
    note = Reason.of("rule.undecided", why=why)
    rewritten = diagnosis.model_copy(
        update={"safety": safety, "auto_reparable": False}
    ).with_reasons(note, lang=lang)
    bounds = global_bounds(settings)
    return RuleDecision(None, diagnosis.error_class, rewritten, settings, bounds, "propose")


def disposition(diagnosis: Diagnosis, settings: HealingSettings) -> Disposition:
    """What the healer does with a diagnosis: the same test as `Healer._heal`."""
    if diagnosis.safety is Safety.RED:
        return "never"
    automatic = (
        diagnosis.safety is Safety.GREEN
        and diagnosis.auto_reparable
        and diagnosis.confidence >= settings.confidence_threshold
    )
    return "auto" if automatic else "propose"


@dataclass(frozen=True)
class RuleSet:
    """A tenant's rules in force. `broken` (stored rules unreadable) makes every
    decision a proposal: the tenant asked for rules, so Kyra never ignores them silently."""

    rules: tuple[Rule, ...] = ()
    version: int = 0
    broken: bool = False

    def decide(
        self,
        ctx: ErrorContext,
        diagnosis: Diagnosis,
        settings: HealingSettings,
        lang: Lang = "en",
        budget: MatchBudget | None = None,
    ) -> RuleDecision | None:
        """The decision of the first matching rule, or None when no rule matches."""
        if self.broken:
            return _undecided(diagnosis, settings, "unreadable rules", lang)
        if not self.rules:
            return None
        budget = budget or MatchBudget()
        match = match_rule(self.rules, ctx, diagnosis, budget)
        if budget.timed_out:
            return _undecided(diagnosis, settings, "message pattern timed out", lang)
        if match is None:
            return None
        return apply_rule(match, diagnosis, ctx, settings, lang)


EMPTY_RULES = RuleSet()
_PARSED: dict[str, tuple[Rule, ...]] = {}
_PARSED_LIMIT = 256


def rules_for_tenant(store: Store, tenant: TenantInfo, settings: HealingSettings) -> RuleSet:
    """The rules in force for `tenant`; none unless its tier has `custom_rules` (a
    downgraded tenant keeps its stored rules, inactive). Parsed documents are cached by
    digest, so a new version is picked up on the next failure."""
    if not settings.tier(tenant.tier).custom_rules:
        return EMPTY_RULES
    current = rules_store.current_rules(store, tenant.id)
    if current is None:
        return EMPTY_RULES
    rules = _PARSED.get(current.digest)
    if rules is None:
        try:
            rules = tuple(RulesDocument.model_validate(current.document).rules)
        except Exception:  # whatever is wrong with stored rules, healing must go on
            log.exception(
                "stored rules v%s of tenant %s are unreadable", current.version, tenant.id
            )
            return RuleSet(version=current.version, broken=True)
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        _PARSED[current.digest] = rules
    return RuleSet(rules, current.version)
