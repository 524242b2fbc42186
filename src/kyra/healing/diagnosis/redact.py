"""Redaction of secrets and personal data before anything leaves the process.

`redact(value, secrets=())` walks strings, dicts, lists and tuples. It replaces the known
secret values first (exact matches, longest first), then patterns: bearer tokens, API keys
of well-known providers, JWTs, passwords in URLs, emails and phone numbers. Values of
sensitive headers or keys (`Authorization`, `Cookie`, `X-Api-Key`, `password`, ...) are
replaced whole. It errs on the side of redacting too much: the LLM never needs a secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"

SENSITIVE_KEYS = re.compile(
    r"^(?:authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|apikey|"
    r"x-auth-token|x-access-token|access[-_]?token|refresh[-_]?token|id[-_]?token|token|"
    r"secret|client[-_]?secret|password|passwd|pwd|private[-_]?key|session[-_]?id|"
    r"x-goog-api-key|x-csrf-token|signature|x-hub-signature(?:-256)?|stripe-signature|"
    r"x-slack-signature|x-twilio-signature)$",
    re.IGNORECASE,
)

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Passwords in URLs: scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@"), r"\1" + REDACTED + "@"),
    # Authorization schemes followed by a credential.
    (
        re.compile(r"(?i)\b(bearer|basic|token|digest|apikey)\s+[A-Za-z0-9._~+/=-]{8,}"),
        r"\1 " + REDACTED,
    ),
    # JSON Web Tokens.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), REDACTED),
    # Provider keys: OpenAI/Anthropic, Slack, GitHub, AWS, Stripe, SendGrid, Google, Twilio...
    (re.compile(r"\bsk-(?:ant-|proj-|svcacct-)?[A-Za-z0-9_-]{16,}"), REDACTED),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), REDACTED),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}"), REDACTED),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), REDACTED),
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b"), REDACTED),
    (re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}"), REDACTED),
    (re.compile(r"\bwhsec_[A-Za-z0-9]{16,}"), REDACTED),
    (re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"), REDACTED),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"), REDACTED),
    (re.compile(r"\bya29\.[0-9A-Za-z_-]{20,}"), REDACTED),
    (re.compile(r"\b(?:secret_|ntn_)[A-Za-z0-9]{30,}"), REDACTED),
    (re.compile(r"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{32,}"), REDACTED),
    (re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{20,}"), REDACTED),
    (re.compile(r"\b[0-9]{6,12}:AA[A-Za-z0-9_-]{30,}"), REDACTED),  # Telegram bot token
    (re.compile(r"\b[a-f0-9]{32}-us\d{1,2}\b"), REDACTED),  # Mailchimp key
    # key=value / "key": "value" pairs with a sensitive name.
    (
        re.compile(
            r"(?i)([\"']?(?:api[_-]?key|access[_-]?token|refresh[_-]?token|client[_-]?secret|"
            r"password|passwd|secret|token|auth)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}]{4,}"
        ),
        r"\1" + REDACTED,
    ),
    # Emails.
    (re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), "[EMAIL]"),
    # Phone numbers: E.164 or grouped digits with at least 9 digits.
    (re.compile(r"(?<![\w.])\+\d{7,15}\b"), "[PHONE]"),
    (re.compile(r"(?<![\w.%-])\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{3,4}\b"), "[PHONE]"),
]


def _redact_text(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _prepare(secrets: Iterable[str]) -> tuple[str, ...]:
    # Short values would redact ordinary words; longest first so overlaps redact fully.
    unique = {s for s in secrets if isinstance(s, str) and len(s) >= 4}
    return tuple(sorted(unique, key=len, reverse=True))


def _walk(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return _redact_text(value, secrets)
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and SENSITIVE_KEYS.match(key) and item not in (None, ""):
                out[key] = REDACTED
            else:
                out[key] = _walk(item, secrets)
        return out
    if isinstance(value, list):
        return [_walk(item, secrets) for item in value]
    if isinstance(value, tuple):
        return tuple(_walk(item, secrets) for item in value)
    return value


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of `value` (str, dict, list, tuple, nested) with secrets and personal data
    replaced; other types are returned unchanged.

    Parameters:
        value: the text or structure to clean; header dicts are handled like any dict.
        secrets: known secret values (from the tenant's vault) to redact wherever they
            appear, even when no pattern would recognise them.
    """
    return _walk(value, _prepare(secrets))
