"""A known code as a signature match, weighted by where its meaning came from.

The step's own provider documenting the code outranks everything read from text; a code
other providers agree on counts a little less; a code recognised only by its words (see
`code_tokens.py`) less again; an umbrella code (`invalid_request_error`) is weak enough
that the local model decides; and a code found under a loose key (`type`, `status`,
`title`) loses a few points.
"""

from __future__ import annotations

from kyra.healing.diagnosis.codes import CodeHit
from kyra.healing.diagnosis.signatures import Match, Signature

PROVIDER_CODE = (95, 0)
"""(confidence, priority) of a code the step's provider documents: it outranks text."""
SHARED_CODE = (88, 0)
"""(confidence, priority) of a code other providers document with one meaning."""
TOKEN_CODE = (80, -5)
"""(confidence, priority) of an unknown code whose words other providers' codes share."""
UMBRELLA_CODE = (60, -10)
"""(confidence, priority) of a code that names a family of errors: the model may decide."""
LOOSE_KEY_RANK = 30
LOOSE_KEY_PENALTY = 10
"""A code found under a loose key (`type`, `status`, `title`) counts for less."""


def code_match(hit: CodeHit) -> Match:
    """A known provider code as a match the signature machinery can weigh."""
    confidence, priority = {"provider": PROVIDER_CODE, "shared": SHARED_CODE}.get(
        hit.scope, TOKEN_CODE
    )
    if hit.umbrella:
        confidence, priority = UMBRELLA_CODE
    if hit.rank >= LOOSE_KEY_RANK:
        confidence, priority = confidence - 5, priority - LOOSE_KEY_PENALTY
    signature = Signature(
        id=f"code.{hit.scope}.{hit.code}",
        error_class=hit.error_class,
        confidence=confidence,
        priority=priority,
        codes=frozenset({hit.code}),
    )
    return Match(signature, signature.base_score, [f"code={hit.code}"])
