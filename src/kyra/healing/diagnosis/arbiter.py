"""When the local model may overrule a confident rule.

Signatures written from words and statuses (`http.403` -> insufficient_permissions,
`text.validation` -> data_validation_error) and codes other providers use are right for
the errors they were written from, and often wrong for a provider nobody looked at: a
403 that is a suspended account, a "validation failed" that is a missing field. The
model has read every provider's examples, so when it disagrees clearly it gets the word,
within limits that keep the answer safe:

- the rule rests only on a status, text or a shared code, never on a raised exception
  type, a header, a code the step's own provider documents or one a signature lists;
- neither answer is GREEN (the structural-evidence rules decide those);
- a RED rule is never turned into a non-RED answer (prefer asking a person).

The other way round, a weak status-only YELLOW guess (`http.400` -> invalid_parameter_format,
below the trust threshold) that the model doubts is not kept when the model gives the
RED classes together at least `RED_LEAN` of its probability: the model's likeliest RED
class is named instead. Calling a RED error YELLOW is the costlier mistake.
"""

from __future__ import annotations

from kyra.healing.diagnosis.model import ModelAnswer
from kyra.healing.taxonomy import ErrorClass, Safety, info

OVERRULE_PROBABILITY = 0.5
RED_LEAN = 0.3
SOFT_KINDS = frozenset({"status", "text", "code", "provider"})


def soft_rule(signature: str | None, matched: list[str]) -> bool:
    """The rule rests on words, a status or a code other providers use (shared or known
    by its words) only; a code the step's provider documents, or one a hand-written
    signature lists, is knowledge the model does not overrule."""
    if signature is None:
        return False
    kinds = {condition.partition("=")[0] for condition in matched}
    if "code" in kinds and not signature.startswith(("code.shared.", "code.token.")):
        return False
    return kinds <= SOFT_KINDS


def overrules(
    rule_class: ErrorClass, signature: str | None, matched: list[str], answer: ModelAnswer
) -> bool:
    """True when the model's answer should replace the rule's (see the module docstring)."""
    model_class = answer.error_class
    if model_class is rule_class or model_class is ErrorClass.UNKNOWN:
        return False
    if answer.probability < OVERRULE_PROBABILITY or not soft_rule(signature, matched):
        return False
    rule_safety, model_safety = info(rule_class).safety, info(model_class).safety
    if Safety.GREEN in (rule_safety, model_safety):
        return False
    return not (rule_safety is Safety.RED and model_safety is not Safety.RED)


def red_lean(
    rule_class: ErrorClass, signature: str | None, scores: dict[str, float]
) -> ErrorClass | None:
    """The RED class to name instead of a weak status-only YELLOW rule, if any."""
    if info(rule_class).safety is not Safety.YELLOW or not (signature or "").startswith("http."):
        return None
    red = {
        cls: p
        for cls, p in scores.items()
        if cls != ErrorClass.UNKNOWN.value and info(ErrorClass(cls)).safety is Safety.RED
    }
    if sum(red.values()) < RED_LEAN:
        return None
    return ErrorClass(max(red, key=lambda cls: red[cls]))
