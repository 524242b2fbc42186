"""Redaction of secrets before anything is stored, logged or sent to an LLM.

Two layers: the tenant's known secret values (exact matches, wherever they appear), and
the values of credential-bearing keys and headers (`Authorization`, `password`, ...).
Pattern-based redaction of tokens, emails and phone numbers for LLM prompts lives in
`kyra.healing.diagnosis.redact` and builds on this.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 4
"""Shorter values would mask ordinary text; secrets that short are not secrets."""

SENSITIVE_KEY = re.compile(
    r"(?i)^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|"
    r"x-auth-token|password|passwd|secret|client[-_]?secret|access[-_]?token|"
    r"refresh[-_]?token|token|private[-_]?key)$"
)


class Redactor:
    """Masks known secret values and credential-bearing keys in nested data."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted(
            {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True
        )
        self._values = values
        self._pattern = re.compile("|".join(re.escape(v) for v in values)) if values else None

    def text(self, value: str) -> str:
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(MASK, value)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {
                key: (
                    MASK
                    if isinstance(key, str) and SENSITIVE_KEY.match(key) and item
                    else self(item)
                )
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self(item) for item in value]
        return value


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """One-shot convenience; build a `Redactor` once when redacting many values."""
    return Redactor(secrets)(value)
