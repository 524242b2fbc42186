"""The last word on an answer's safety colour, after the tiers chose a class.

Two mistakes cost more than the others: a GREEN answer for an error that is not transient
(a fix is applied to a workflow nobody asked to change), and a RED error called YELLOW
(a person is asked to approve a fix for what only they can resolve: a plan, a suspended
account, a revoked key). The tiers weigh evidence for a class; this module looks once
more at the answer from the safety side only:

- **Out of service, stated.** An error that says in its code or text that the account,
  project or deployment is *paused*, *suspended*, *deactivated*, *banned*, *frozen* or
  *disabled* is not one waiting fixes: a GREEN answer (a 503 from a paused deployment)
  becomes the model's likeliest RED class. Words may take GREEN away, never give it, and
  "temporarily disabled" / "disabled for maintenance" keep their transient reading.
- **The safety head.** The model has a second, binary head (RED or not, balanced class
  weights, calibrated; see `model.py`). A YELLOW answer that rests on soft evidence (the
  model's own class, a status, words or a code other providers use; never a code the
  step's provider documents or a raised exception type) and is not confident
  (`SOFT_CONFIDENCE`) becomes the likeliest RED class when the head gives RED at least
  `RED_HEAD_THRESHOLD`. The threshold is below one half on purpose: RED changes nothing
  and asks a person, as `unknown` does, so doubt leans that way.
"""

from __future__ import annotations

import re

from kyra.healing.diagnosis.arbiter import soft_rule
from kyra.healing.diagnosis.model import ModelAnswer
from kyra.healing.diagnosis.observe import Observed
from kyra.healing.diagnosis.structure import TEXT_ONLY_GREEN
from kyra.healing.taxonomy import ErrorClass, Safety, info

RED_HEAD_THRESHOLD = 0.3
"""The safety head's RED probability from which a soft YELLOW answer turns RED."""
SOFT_CONFIDENCE = 80
"""A YELLOW answer at or below this confidence is open to the safety head."""
OUT_OF_SERVICE = re.compile(
    r"paus(?:e|ed|ing)\b|paused|suspen(?:d|sion)|deactivat|\bbanned|frozen|\bdisabled"
    r"|suspendid|pausad|desactivad|congelad|inhabilitad"
)
STILL_TRANSIENT = re.compile(r"temporar|maintenance|mantenimiento|try again|retry")


def out_of_service(obs: Observed) -> bool:
    """The error states that what it calls is paused, suspended or disabled (in a code
    such as `DEPLOYMENT_PAUSED` or in its text), without calling it temporary."""
    seen = " ".join([obs.text, *sorted(obs.codes)])
    return bool(OUT_OF_SERVICE.search(seen)) and not STILL_TRANSIENT.search(seen)


def demoted_green(
    error_class: ErrorClass, obs: Observed, answer: ModelAnswer | None
) -> ErrorClass | None:
    """The RED class a GREEN answer becomes when the error says it is out of service."""
    if info(error_class).safety is not Safety.GREEN or error_class in TEXT_ONLY_GREEN:
        return None
    if not out_of_service(obs):
        return None
    if answer is not None and answer.red_class is not None:
        return answer.red_class
    return ErrorClass.ACCOUNT_SUSPENDED


def raised_yellow(
    error_class: ErrorClass,
    confidence: int,
    signature: str | None,
    matched: list[str],
    answer: ModelAnswer | None,
) -> ErrorClass | None:
    """The RED class a soft, unsure YELLOW answer becomes when the safety head leans RED."""
    if info(error_class).safety is not Safety.YELLOW or confidence > SOFT_CONFIDENCE:
        return None
    if answer is None or answer.red_probability is None or answer.red_class is None:
        return None
    if signature is not None and not (
        soft_rule(signature, matched) or signature.startswith("http.")
    ):
        return None
    if answer.red_probability < RED_HEAD_THRESHOLD:
        return None
    return answer.red_class
