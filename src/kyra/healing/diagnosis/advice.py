"""What a diagnosis advises beyond its class: the default fix steps the facts sharpen, and
why an auto-repairable class is only suggested (kept apart from the engine's tiers)."""

from __future__ import annotations

from kyra.healing.diagnosis.types import Facts, Tier
from kyra.healing.reasons import Reason
from kyra.healing.taxonomy import AUTO_FIX_MIN_CONFIDENCE, ErrorClass, FixStep, info


def not_auto(auto_class: bool, tier: Tier, confidence: int, facts: Facts) -> Reason | None:
    """Why an auto-repairable class is only suggested: the actual reason, never a
    threshold the confidence met (an LLM at 90 % is advice, not "below 80 %")."""
    if not auto_class:
        return None  # the class's own sentence says a person is needed
    if tier is Tier.LLM:
        return Reason.of("fact.not_auto_llm")
    if facts.date_candidates:
        first, second = facts.date_candidates
        return Reason.of("fact.not_auto_ambiguous_date", first=first, second=second)
    if facts.relative_date:
        return Reason.of("fact.not_auto_relative_date")
    if confidence < AUTO_FIX_MIN_CONFIDENCE:
        return Reason.of("fact.not_auto", confidence=confidence, threshold=AUTO_FIX_MIN_CONFIDENCE)
    return None


def default_steps(error_class: ErrorClass, facts: Facts) -> list[FixStep]:
    """Default steps, sharpened by what the facts make possible."""
    steps = list(info(error_class).default_steps)
    if error_class is ErrorClass.RATE_LIMIT_EXCEEDED and not facts.retry_after_seconds:
        steps.remove(FixStep.HONOUR_RETRY_AFTER)
    if error_class is ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE and (facts.retry_after_seconds):
        steps.insert(0, FixStep.HONOUR_RETRY_AFTER)
    if error_class is ErrorClass.MISSING_REQUIRED_FIELD and not facts.field:
        steps = [FixStep.REVIEW_INPUT_DATA]
    if error_class is ErrorClass.INVALID_DATE_FORMAT and facts.expected_format:
        steps.append(FixStep.SET_DATE_FORMAT)
    return steps
