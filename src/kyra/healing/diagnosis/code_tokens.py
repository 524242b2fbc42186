"""A code-word vocabulary learned from the providers' code tables.

A provider the base has never seen still names its errors with the same words:
`ACCOUNT_SUSPENDED`, `accountSuspended`, `SUSPENDED_USER`; `QuotaExceeded`,
`DAILY_QUOTA_EXCEEDED`; `API_VERSION_DEPRECATED`. The words of the documented codes
(`invalid_api_version` -> `version`) are counted across providers: a word whose codes
mean one class at three or more providers, at least `PURITY` of the time, becomes a
token -> class entry, and an unknown code containing it takes that class (at a lower
confidence than a code a provider documents). Tokens never name a GREEN class: a
transient answer needs a code whose meaning is known, not a guess from its words.
"""

from __future__ import annotations

import re
from collections import Counter

from kyra.healing.taxonomy import ErrorClass, Safety, info

MIN_PROVIDERS = 3
PURITY = 0.8
MIN_LENGTH = 4
_SPLIT = re.compile(r"[^a-z]+")


def words(code: str) -> set[str]:
    """The words of a separated code (`invalid_api_version` -> {invalid, version})."""
    return {w for w in _SPLIT.split(code.lower()) if MIN_LENGTH <= len(w) <= 24}


def _votes(
    tables: dict[str, dict[str, ErrorClass]],
) -> tuple[dict[str, Counter[ErrorClass]], dict[str, set[str]]]:
    """For every code word: the classes of the codes containing it, and their providers."""
    vocabulary = {
        w for table in tables.values() for code in table if ":" not in code for w in words(code)
    }
    votes: dict[str, Counter[ErrorClass]] = {}
    providers: dict[str, set[str]] = {}
    for provider, table in tables.items():
        for code, cls in table.items():
            if ":" in code or not any(c.isalpha() for c in code):
                continue
            for token in vocabulary:
                if token in code:
                    votes.setdefault(token, Counter())[cls] += 1
                    providers.setdefault(token, set()).add(provider)
    return votes, providers


def learn_tokens(tables: dict[str, dict[str, ErrorClass]]) -> dict[str, ErrorClass]:
    """Token -> class from provider -> code -> class, as the module docstring says."""
    votes, providers = _votes(tables)
    learned: dict[str, ErrorClass] = {}
    for token, counter in sorted(votes.items()):
        cls, count = counter.most_common(1)[0]
        if (
            len(providers[token]) >= MIN_PROVIDERS
            and count / sum(counter.values()) >= PURITY
            and info(cls).safety is not Safety.GREEN
        ):
            learned[token] = cls
    return learned


def token_class(code: str, tokens: dict[str, ErrorClass]) -> tuple[str, ErrorClass] | None:
    """The class the longest known token inside `code` says (the more dangerous on a tie)."""
    if ":" in code or " " in code or not any(c.isalpha() for c in code):
        return None
    found = [(t, c) for t, c in tokens.items() if t in code]
    if not found:
        return None
    danger = {Safety.RED: 2, Safety.YELLOW: 1, Safety.GREEN: 0}
    return max(found, key=lambda item: (len(item[0]), danger[info(item[1]).safety], item[0]))
