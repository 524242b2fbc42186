"""Redaction: the one place that decides what a secret looks like, used before anything
is stored (executor), logged (`kyra.logs`), sent (notifications) or shown to an LLM.

What is masked:

* The tenant's known secret values, and the credentials a step was given literally
  (`auth: {bearer: ...}`, a password, a credential-shaped header or query parameter),
  wherever they appear, in every form an upstream may echo them back in: as is,
  base64 (standard and URL-safe, padded or not, and at any offset inside a longer
  encoded text, so `Basic base64(user:secret)` is caught without knowing the user),
  URL-encoded, hex and JSON-escaped.
* Values of credential-shaped keys (`Authorization`, `password`, `client_secret`,
  `X-Shopify-Access-Token`, ...) when they are text.
* Credential-shaped query parameters in URLs (`?token=...`), `Bearer`/`Basic` schemes
  followed by a credential, `password=...`-style pairs, passwords in URLs.
* For the LLM tier only (`personal=True`): provider key formats, JWTs, emails and
  phone numbers. The LLM never needs them; stored data keeps them for people to read.

URLs in messages (`safe_url`, `scrub_urls`) lose their query string, fragment and user
info, where tokens hide. Everything masked reads `[REDACTED]` (`MASK`), wherever it is
shown: a stored record, a log line, a notification, a prompt, a broker or database URL
printed by the CLI.

It errs on the side of masking too much: a masked word costs a reader a guess, a leaked
secret costs the tenant.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit, urlunsplit

MASK = "[REDACTED]"
MIN_SECRET_LENGTH = 4
"""Shorter values would mask ordinary text; secrets that short are not secrets."""
MIN_DERIVED_LENGTH = 8
"""A derived form (a slice of base64, say) shorter than this would match ordinary text."""

_EXACT_KEYS = (
    r"authorization|proxy-authorization|cookie|set-cookie|auth|bearer|basic|"
    r"x-auth-token|x-api-key|x-goog-api-key|x-csrf-token|session[-_]?id|sid|pwd|"
    r"signature|x-hub-signature(?:-256)?|stripe-signature|x-slack-signature|"
    r"x-twilio-signature|webhook-signature|x-kyra-signature"
)
_KEY_PARTS = r"passw|secret|token|api[-_]?key|apikey|private[-_]?key|credential|access[-_]?key"
SENSITIVE_KEY = re.compile(rf"(?i)^(?:{_EXACT_KEYS})$|{_KEY_PARTS}")
"""A key whose text value is a credential: exact names, or names containing one of the
credential words (`client_secret`, `X-Shopify-Access-Token`, `db_password`)."""

# Bounded repeats and a start at a word's beginning: an unbounded `[\w-]*` in front of
# the names would retry from every character of a long word (quadratic on a 1 MB body).
_QUERY_NAME = rf"[\w.-]{{0,40}}?(?:{_KEY_PARTS}|auth|sig|signature|code_verifier)[\w.-]{{0,40}}"
_SCHEME_NEEDLES = ("earer", "asic", "oken", "igest", "pikey", "EARER", "ASIC", "OKEN", "PIKEY")
_TEXT_RULES: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = (
    # (pattern, replacement, needles): a rule runs only on text holding one of its
    # needles, so the common string (a name, an id, a date) costs a few `in` checks.
    # Passwords in URLs: scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@"), rf"\1{MASK}@", ("://",)),
    # Credential-shaped query parameters: ?token=..., &api_key=...
    (re.compile(rf"(?i)([?&;]{_QUERY_NAME}=)[^&#\s\"'<>]+"), rf"\1{MASK}", ("=",)),
    # Authorization schemes followed by a credential (headers echoed as text).
    (
        re.compile(r"(?i)\b(bearer|basic|token|digest|apikey)(\s+|%20|\+)[A-Za-z0-9._~+/=-]{8,}"),
        rf"\1\2{MASK}",
        _SCHEME_NEEDLES,
    ),
    # key=value / "key": "value" pairs with a credential-shaped name.
    (
        re.compile(
            rf"(?i)([\"']?(?<![\w-])(?:[\w-]{{0,40}}?(?:{_KEY_PARTS})[\w-]{{0,40}}|auth)"
            r"[\"']?\s*[:=]\s*[\"']?)"
            r"(?!\[REDACTED\])[^\s\"'&,;}]{4,}"
        ),
        rf"\1{MASK}",
        (":", "="),
    ),
)

_PERSONAL_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), MASK),
    (re.compile(r"\bsk-(?:ant-|proj-|svcacct-)?[A-Za-z0-9_-]{16,}"), MASK),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), MASK),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}"), MASK),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), MASK),
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b"), MASK),
    (re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}"), MASK),
    (re.compile(r"\bwhsec_[A-Za-z0-9]{16,}"), MASK),
    (re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"), MASK),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"), MASK),
    (re.compile(r"\bya29\.[0-9A-Za-z_-]{20,}"), MASK),
    (re.compile(r"\b(?:secret_|ntn_)[A-Za-z0-9]{30,}"), MASK),
    (re.compile(r"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{32,}"), MASK),
    (re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{20,}"), MASK),
    (re.compile(r"\b[0-9]{6,12}:AA[A-Za-z0-9_-]{30,}"), MASK),  # Telegram bot token
    (re.compile(r"\b[a-f0-9]{32}-us\d{1,2}\b"), MASK),  # Mailchimp key
    (re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), "[EMAIL]"),
    (re.compile(r"(?<![\w.])\+\d{7,15}\b"), "[PHONE]"),
    (re.compile(r"(?<![\w.%-])\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{3,4}\b"), "[PHONE]"),
    (re.compile(r"(?<![\w.])\+\d{1,3}(?:[\s.-]\d{2,4}){2,4}\b"), "[PHONE]"),
)


_URL_QUERY = re.compile(r"(https?://[^\s?#'\"]+)[?#][^\s'\"]*")


def safe_url(url: str) -> str:
    """The URL without user info, query and fragment (they may carry secrets)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scrub_urls(text: str) -> str:
    """`text` with every HTTP URL's query string and fragment removed (tokens hide there)."""
    return _URL_QUERY.sub(r"\1", text)


def _base64_slices(raw: bytes) -> set[str]:
    """The base64 text that `raw` becomes inside any longer encoded text: one slice per
    byte offset (0, 1, 2), keeping only the characters made from `raw`'s bits alone."""
    out: set[str] = set()
    n = len(raw)
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + raw).decode("ascii")
        start = -(-8 * offset // 6)  # ceil: first character made only of raw's bits
        end = 8 * (offset + n) // 6  # floor: after the last one
        out.add(encoded[start:end])
    whole = base64.b64encode(raw).decode("ascii")
    out |= {whole, whole.rstrip("=")}
    return out | {s.replace("+", "-").replace("/", "_") for s in out}


def derived_forms(secret: str) -> set[str]:
    """Every form of `secret` Kyra masks (itself included)."""
    raw = secret.encode("utf-8")
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    forms |= {raw.hex(), raw.hex().upper()}
    forms |= _base64_slices(raw)
    lower_escapes = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(secret, safe=""))
    forms.add(lower_escapes)
    return {f for f in forms if len(f) >= MIN_DERIVED_LENGTH or f == secret}


def credentials_in(value: Any) -> set[str]:
    """Credentials given literally in rendered parameters: text values of credential-
    shaped keys, `user:password` of a basic-auth pair, credential-shaped query values in
    URLs. They join the known secrets so an upstream echoing them is masked too."""
    found: set[str] = set()
    if isinstance(value, dict):
        user, password = value.get("username"), value.get("password")
        if isinstance(user, str) and isinstance(password, str) and password:
            found.add(f"{user}:{password}")
        for key, item in value.items():
            if isinstance(key, str) and SENSITIVE_KEY.search(key) and isinstance(item, str):
                found.add(item)
                scheme, _, credential = item.partition(" ")
                if credential and scheme.lower() in ("bearer", "basic", "token"):
                    found.add(credential.strip())
            else:
                found |= credentials_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= credentials_in(item)
    elif isinstance(value, str) and "?" in value and "=" in value:
        found |= _query_credentials(value)
    return {f for f in found if len(f) >= MIN_SECRET_LENGTH}


def _query_credentials(text: str) -> set[str]:
    try:
        query = urlsplit(text.strip()).query
    except ValueError:
        return set()
    return {v for k, v in parse_qsl(query) if SENSITIVE_KEY.search(k) or k.lower() == "sig"}


class Redactor:
    """Masks known secrets (in all their derived forms) and credential shapes in nested
    data. Build once per run (or per prompt) and call on every value."""

    def __init__(self, secrets: Iterable[str] = (), *, personal: bool = False) -> None:
        self.secrets = frozenset(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)
        self.personal = personal
        forms = {f for s in self.secrets for f in derived_forms(s)}
        # Longest first, so a form containing another is masked whole. Plain substring
        # search and replace: one regex alternating hundreds of forms would try each at
        # every position of a megabyte body.
        self._forms = tuple(sorted(forms, key=len, reverse=True))

    def learn(self, values: Iterable[str]) -> Redactor:
        """This redactor, or a new one that also masks `values` (when any is new)."""
        new = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH} - self.secrets
        if not new:
            return self
        return Redactor(self.secrets | new, personal=self.personal)

    def text(self, value: str) -> str:
        if not value:
            return value
        for form in self._forms:
            if form in value:
                value = value.replace(form, MASK)
        for pattern, replacement, needles in _TEXT_RULES:
            if any(needle in value for needle in needles):
                value = pattern.sub(replacement, value)
        if self.personal:
            for pattern, replacement in _PERSONAL_RULES:
                value = pattern.sub(replacement, value)
        return value

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {
                key: (
                    MASK
                    if isinstance(key, str) and SENSITIVE_KEY.search(key) and _credential(item)
                    else self(item)
                )
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self(item) for item in value)
        return value

    def known(
        self, values: dict[str, Any], done: dict[str, tuple[Redactor, Any]]
    ) -> dict[str, Any]:
        """`self(values)`, taking each value that `done` holds as already redacted by this
        very redactor instead of walking it again (a run's outputs were redacted step by
        step when they were recorded; a redactor that learnt more since walks them anew)."""
        out = {}
        for key, item in values.items():
            seen = done.get(key)
            masked = isinstance(key, str) and SENSITIVE_KEY.search(key) and _credential(item)
            if seen is not None and seen[0] is self and not masked:
                out[key] = seen[1]
            else:
                out[key] = self({key: item})[key]
        return out


def _credential(item: Any) -> bool:
    """Text is masked whole under a credential-shaped key; numbers (`max_tokens: 500`),
    booleans and nested structures are not credentials (the walk goes on inside)."""
    return isinstance(item, str) and item != ""


def redact(value: Any, secrets: Iterable[str] = (), *, personal: bool = False) -> Any:
    """One-shot convenience; build a `Redactor` once when redacting many values.

    Parameters:
        value: text or nested dicts, lists and tuples; other types come back unchanged.
        secrets: known secret values (the tenant's vault), masked in every form.
        personal: also mask provider key formats, JWTs, emails and phone numbers (for
            anything sent to an LLM).
    """
    return Redactor(secrets, personal=personal)(value)
