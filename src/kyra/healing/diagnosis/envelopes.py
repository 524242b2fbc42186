"""Error codes carried by envelopes the JSON key walk in `observe.py` does not reach.

- Dropbox: `{"error": {".tag": "path", "path": {".tag": "not_found"}}}`: the innermost
  `.tag` is the specific code (the key walk ranks deeper codes higher).
- Salesforce SOAP `<sf:exceptionCode>`, eBay `<ErrorCode>`, `<ShortMessage>`-less XML.
- Name-value-pair bodies (PayPal classic): `ACK=Failure&L_ERRORCODE0=10001`.
- Lists of `[CODE, message, field]` triples (Reddit: `{"json": {"errors": [["RATELIMIT",
  "...", "ratelimit"]]}}`): an upper-case identifier at the head of an error triple.
- Error headers: `x-vercel-error: DEPLOYMENT_PAUSED`, `x-error-code`, `x-amzn-errortype`;
  a header's value is set by the protocol layer, as specific as a body's `code`.
- Qualified names: AWS JSON `__type` values carry a namespace
  (`com.amazonaws.dynamodb.v20120810#ThrottlingException`), SharePoint and .NET send
  `-2147024860, Microsoft.SharePoint.SPQueryThrottledException`: the bare name is the code
  other providers document (`throttlingexception`), so both forms are kept; an SDK's
  `...Exception` suffix is a naming convention, so `LimitExceededException` is also
  `limitexceeded`, the name another cloud documents for the same error.
- Retry flags: `"is_transient": true` (Meta Graph), `"retryable": true`, `"severity":
  "temporary"` (Mailgun events), `errorLabels: ["TransientTransactionError"]` (MongoDB):
  the provider's protocol says in a field, not in prose, that trying again can succeed.
"""

from __future__ import annotations

import re
from typing import Any

_XML_EXTRA = re.compile(
    r"<(?:\w+:)?(exceptioncode|errorcode|error_code|errorname)>\s*([\w.-]{2,64})\s*</",
    re.IGNORECASE,
)
_NVP = re.compile(r"(?:^|&)L_ERRORCODE\d*=([\w%.-]{1,64})", re.IGNORECASE)
_IDENT = re.compile(r"^[A-Z][A-Z0-9_]{2,63}$")
_ERROR_HEADER = re.compile(r"^x-(?:[a-z0-9]+-)?error(?:-?code|-?type)?$")
RANK_SPECIFIC = 10
RETRY_FLAGS = frozenset(
    {
        "is_transient",
        "transient",
        "retryable",
        "retriable",
        "isretryable",
        "is_retryable",
        "isretriable",
        "should_retry",
        "shouldretry",
        "can_retry",
    }
)
RETRY_LABELS = frozenset({"transienttransactionerror", "retryablewriteerror"})
_SUFFIX = "exception"
_DOTTED = re.compile(r"^[a-z_][\w]*(?:\.[a-z_][\w]*)+$")


def code_forms(code: str) -> list[str]:
    """The code as sent, plus its bare name when qualified (see the module docstring)."""
    forms = [code]
    tail = code
    if "#" in tail:
        tail = tail.rsplit("#", 1)[1]
    if ", " in tail:
        tail = tail.rsplit(", ", 1)[1]
    if _DOTTED.match(tail):
        tail = tail.rsplit(".", 1)[1]
    if tail != code and len(tail) >= 3:
        forms.append(tail)
    if tail.endswith(_SUFFIX) and len(tail) >= len(_SUFFIX) + 4:
        forms.append(tail.removesuffix(_SUFFIX))
    return forms


def _flag_field(name: str, item: Any) -> bool:
    if name in RETRY_FLAGS:
        return item is True
    if name == "severity":
        return item == "temporary"
    if name in ("errorlabels", "error_labels") and isinstance(item, list):
        return any(str(label).lower() in RETRY_LABELS for label in item)
    return False


def retry_flag(value: Any, depth: int = 0) -> bool:
    """A field in the body that marks the error retryable (see the module docstring)."""
    if depth > 5:
        return False
    if isinstance(value, dict):
        return any(
            _flag_field(str(key).lower(), item)
            or (isinstance(item, dict | list) and retry_flag(item, depth + 1))
            for key, item in value.items()
        )
    elif isinstance(value, list):
        return any(retry_flag(item, depth + 1) for item in value[:20])
    return False


def _tags(value: Any, out: dict[str, int], depth: int = 0) -> None:
    """Dropbox-style `.tag` unions: deeper tags are more specific."""
    if depth > 6:
        return
    if isinstance(value, dict):
        tag = value.get(".tag")
        if isinstance(tag, str) and 0 < len(tag) <= 64:
            out[tag.lower()] = min(out.get(tag.lower(), 99), 20 - depth)
        for item in value.values():
            _tags(item, out, depth + 1)
    elif isinstance(value, list):
        for item in value[:20]:
            _tags(item, out, depth + 1)


def _triples(value: Any, out: dict[str, int], depth: int = 0) -> None:
    """`errors: [["CODE", "message", "field"], ...]`."""
    if depth > 4:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "errors" and isinstance(item, list):
                for entry in item[:20]:
                    head = entry[0] if isinstance(entry, list) and entry else None
                    if isinstance(head, str) and _IDENT.match(head):
                        out[head.lower()] = RANK_SPECIFIC
            elif isinstance(item, dict | list):
                _triples(item, out, depth + 1)


def envelope_codes(
    texts: tuple[str, ...], parsed: tuple[Any, ...], headers: dict[str, str]
) -> dict[str, int]:
    """Code -> rank (lower is more specific) from the envelopes this module knows."""
    found: dict[str, int] = {}
    for value in parsed:
        _tags(value, found)
        _triples(value, found)
    for text in texts:
        for _, code in _XML_EXTRA.findall(text):
            found.setdefault(code.lower(), RANK_SPECIFIC)
        if "L_ERRORCODE" in text.upper():
            for code in _NVP.findall(text):
                found.setdefault(code.lower(), RANK_SPECIFIC)
    for name, value in headers.items():
        if _ERROR_HEADER.match(name) and value.strip() and len(value) <= 64:
            found.setdefault(value.split(":", 1)[0].strip().lower(), RANK_SPECIFIC)
    return found
