"""What the rules and the model look at: the facts of an `ErrorContext`, read once.

Provider bodies are parsed (JSON, a Python dict repr inside an SDK message, AWS XML) and
their error codes and reasons collected, so a signature can say `codes: [rateLimitExceeded]`
instead of hunting through prose. Nothing here decides a class.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis.envelopes import code_forms, envelope_codes
from kyra.healing.diagnosis.sqlstate import driver_sqlstates

CODE_KEYS = frozenset(
    {
        "error",
        "code",
        "reason",
        "type",
        "status",
        "error_code",
        "errorcode",
        "__type",
        "errortype",
        "category",
        "title",
        "subcode",
        "error_subcode",
        "decline_code",
        "errorname",
        "error_type",
        "statuscode",
    }
)
KEY_RANK = {
    "decline_code": 0,
    "subcode": 0,
    "error_subcode": 0,
    "reason": 1,
    "code": 1,
    "error_code": 1,
    "errorcode": 1,
    "__type": 1,
    "error": 2,
    "errorname": 2,
    "type": 3,
    "error_type": 3,
    "errortype": 3,
    "status": 3,
    "statuscode": 3,
    "category": 4,
    "title": 4,
    "name": 2,
}
"""How specific a code is by the key it came under: `code` beats `type` (Stripe sends
`type: invalid_request_error` with the telling `code: parameter_missing`)."""
GRPC_STATUS = frozenset(
    {
        "cancelled",
        "unknown",
        "invalid_argument",
        "deadline_exceeded",
        "not_found",
        "already_exists",
        "permission_denied",
        "resource_exhausted",
        "failed_precondition",
        "aborted",
        "out_of_range",
        "unimplemented",
        "internal",
        "unavailable",
        "data_loss",
        "unauthenticated",
    }
)
SMTP_REPLIES = frozenset(
    {421, 450, 451, 452, 454, 455, 500, 501, 502, 503, 504, 521, 530, 534, 535, 538, 541}
    | set(range(550, 558))
)
"""RFC 5321/4954 failure replies: other three-digit numbers at a message's head are not SMTP."""
GENERIC_CODES = frozenset(
    {
        "error",
        "errors",
        "err",
        "fail",
        "failed",
        "failure",
        "false",
        "true",
        "ok",
        "none",
        "null",
        "exception",
        "invalid",
        "about:blank",
    }
)
"""Envelope words (`"status": "error"`, `"type": "error"`), not codes: they say nothing."""
MAX_CODE_LENGTH = 64
MAX_TEXT = 4096

PROVIDER_ALIASES = {
    "gmail": "google",
    "sheets": "google",
    "google_sheets": "google",
    "drive": "google",
    "google_drive": "google",
    "googleapis": "google",
    "calendar": "google",
    "teams": "microsoft",
    "msgraph": "microsoft",
    "graph": "microsoft",
    "outlook": "microsoft",
    "microsoft_graph": "microsoft",
    "smtp": "smtp",
    "email": "smtp",
    "s3": "aws",
    "ses": "aws",
    "dynamodb": "aws",
    "lambda": "aws",
    "sqs": "aws",
    "sendgrid": "sendgrid",
}

_STATUS_IN_TEXT = [
    re.compile(r"(?:client|server) error '(\d{3})"),  # httpx HTTPStatusError
    re.compile(r"\b(\d{3}) (?:client|server) error\b"),  # requests HTTPError
    re.compile(r"\berror code: (\d{3})\b"),  # openai / anthropic SDK errors
    re.compile(r"\bhttp(?:/[\d.]+)? (?:status )?(?:code )?(\d{3})\b"),
    re.compile(r"\bstatus(?: code)?[:= ]+(\d{3})\b"),
    re.compile(r"\bhttperror (\d{3}) when requesting\b"),  # googleapiclient
    re.compile(r"^(\d{3}) (?:get|post|put|patch|delete|head) https?://"),  # google-api-core
    re.compile(r"\bapierror: \[(\d{3})\]"),  # gspread
    # an HTTP status line's code and reason phrase, quoted by a tool (npm, curl, git)
    re.compile(
        r"\b(\d{3}) (?:too many requests|service unavailable|internal server error|bad gateway"
        r"|gateway time-?out|unauthorized|forbidden|not found|bad request|payment required)\b"
    ),
]
_SDK_CODE = re.compile(r"an error occurred \(([\w.]{2,64})\) when calling", re.IGNORECASE)
_XML_CODE = re.compile(
    r"<(?:\w+:)?(code|faultcode|errorcode|error_code|reason|value|subcode)>\s*"
    r"(?:\w+:)?([\w.-]{2,64})\s*</",
    re.IGNORECASE,
)
_SQLSTATE = re.compile(
    r"\b(?:sqlstate|pgcode|sql state)\b[\s:=\[('\"]*([0-9A-Z]{5})\b", re.IGNORECASE
)
_GRPC = re.compile(r"\bStatusCode\.([A-Z_]{2,24})\b")
_SMTP_CODE = re.compile(r"\((\d{3}), b?['\"](\d\.\d{1,3}\.\d{1,3})?")
_SMTP_PLAIN = re.compile(r"^(\d{3})[ -](\d\.\d{1,3}\.\d{1,3})?")
_EXC_NAME = re.compile(r"\b([A-Z][A-Za-z0-9]*(?:Error|Exception|Timeout|Refused|Disconnected))\b")
_DOTTED_EXC = re.compile(r"^([a-z_][\w.]*\.)?([A-Z]\w+)(?::|$)")


@dataclass
class Observed:
    """The facts of one error, normalised for matching."""

    status: int | None
    status_from_text: bool
    codes: set[str]
    types: set[str]
    text: str
    headers: dict[str, str]
    provider: str
    body_json: Any = None
    message: str = ""
    body: str = ""
    raw_types: list[str] = field(default_factory=list)
    code_ranks: dict[str, int] = field(default_factory=dict)
    """Code -> how specific it is, lower is more: KEY_RANK of its key x 10, less depth."""
    structural_types: set[str] = field(default_factory=set)
    """Exception types a client library raised (`error_type`), or named in a message no
    remote text reached (no status, no body): evidence, unlike a name inside prose."""


def normalise_provider(provider: str | None, step_action: str | None) -> str:
    """`Gmail`, `google_sheets`, `gmail.send` → `google`; unknown names stay as given."""
    name = (provider or "").strip().lower()
    if not name and step_action:
        name = re.split(r"[.:/_]", step_action.strip().lower(), maxsplit=1)[0]
    name = name.replace(" ", "_").replace("-", "_")
    return PROVIDER_ALIASES.get(name, name)


def parse_structured(text: str) -> Any:
    """A JSON (or Python-literal) value found in `text`, else None."""
    text = text.strip()
    if not text:
        return None
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        return None
    candidate = text[start:MAX_TEXT]
    try:
        return json.loads(candidate)
    except ValueError:
        pass
    end = max(candidate.rfind("}"), candidate.rfind("]"))
    if end <= 0:
        return None
    candidate = candidate[: end + 1]
    try:
        return json.loads(candidate)
    except ValueError:
        pass
    try:
        # SDKs print the body as a Python dict; literal_eval evaluates literals only.
        return ast.literal_eval(candidate)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def _add_code(raw: str, rank: int, out: set[str], ranks: dict[str, int] | None) -> None:
    for code in code_forms(raw):
        if code not in GENERIC_CODES:
            out.add(code)
            if ranks is not None:
                ranks[code] = min(rank, ranks.get(code, rank))


def collect_codes(
    value: Any, out: set[str], depth: int = 0, ranks: dict[str, int] | None = None
) -> None:
    """Error codes and reasons: short scalar values under code-like keys, at any depth
    (`ranks`, when given, records how specific each code's key is)."""
    if depth > 6:
        return
    if isinstance(value, dict):
        # `name` is an error code only beside a message (Mandrill, PayPal, Resend envelopes)
        named = "message" in value or "error" in value
        for key, item in value.items():
            if isinstance(key, str) and (key.lower() in CODE_KEYS or (named and key == "name")):
                if isinstance(item, bool):
                    continue
                if isinstance(item, int | str) and 0 < len(str(item)) <= MAX_CODE_LENGTH:
                    # deeper is more specific: Discord's `errors.content._errors[].code`
                    # says more than its top-level `code: 50035` (Invalid Form Body)
                    rank = KEY_RANK.get(key.lower(), 5) * 10 + max(0, 6 - depth)
                    _add_code(str(item).strip().lower(), rank, out, ranks)
            if isinstance(item, dict | list):
                collect_codes(item, out, depth + 1, ranks)
    elif isinstance(value, list):
        for item in value[:20]:
            collect_codes(item, out, depth + 1, ranks)


def _status_from(body_json: Any, text: str) -> int | None:
    if isinstance(body_json, dict):
        for key in ("error_code", "status", "code", "statusCode"):
            value = body_json.get(key)
            if isinstance(value, int) and 400 <= value <= 599:
                return value
        inner = body_json.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("code"), int):
            code = inner["code"]
            return code if 400 <= code <= 599 else None
    for pattern in _STATUS_IN_TEXT:
        match = pattern.search(text)
        if match and 400 <= int(match.group(1)) <= 599:
            return int(match.group(1))
    return None


def _types(ctx: ErrorContext, message: str) -> tuple[set[str], list[str]]:
    raw: list[str] = []
    if ctx.error_type:
        raw.append(ctx.error_type.strip())
    head = _DOTTED_EXC.match(message.strip())
    if head:
        raw.append(head.group(2))
    raw.extend(_EXC_NAME.findall(message[:MAX_TEXT]))
    names = {name.rsplit(".", 1)[-1].lower() for name in raw if name}
    return names, raw


def _codes(
    ctx: ErrorContext, message: str, body: str, body_json: Any, message_json: Any
) -> tuple[set[str], dict[str, int]]:
    """Provider codes from JSON bodies, SDK messages, XML/SOAP, SQLSTATEs and gRPC names."""
    codes: set[str] = set()
    ranks: dict[str, int] = {}
    collect_codes(body_json, codes, ranks=ranks)
    collect_codes(message_json, codes, ranks=ranks)
    for source in (message, body):
        for found in _SDK_CODE.findall(source):
            codes.add(found.lower())
            ranks[found.lower()] = 10
        for key, found in _XML_CODE.findall(source):
            codes.add(found.lower())
            ranks.setdefault(found.lower(), KEY_RANK.get(key.lower(), 1) * 10)
        for found in _SQLSTATE.findall(source):
            codes.add(f"sqlstate:{found.lower()}")
    for name in driver_sqlstates(ctx.error_type, message, codes):
        codes.add(name)
        ranks[name] = min(ranks.get(name, 10), 10)
        # the bare number is this SQLSTATE, not some provider's code (Discord's 40001)
        codes.discard(name.split(":", 1)[1])
    for source in (ctx.error_type or "", message):
        for found in _GRPC.findall(source):
            if found.lower() in GRPC_STATUS:
                codes.add(f"grpc:{found.lower()}")
    return codes, ranks


def observe(ctx: ErrorContext) -> Observed:
    """Read an `ErrorContext` once into the normalised `Observed` facts."""
    message = (ctx.error_message or "")[:MAX_TEXT]
    body = (ctx.body or "")[:MAX_TEXT]
    headers = {k.lower(): v for k, v in ctx.headers.items()}
    body_json = parse_structured(body) if body else None
    message_json = parse_structured(message) if "{" in message or "[" in message else None
    codes, ranks = _codes(ctx, message, body, body_json, message_json)
    smtp = _SMTP_CODE.search(message) or _SMTP_PLAIN.match(message.strip())
    if smtp and int(smtp.group(1)) in SMTP_REPLIES:
        codes.add(f"smtp:{smtp.group(1)}")
        ranks[f"smtp:{smtp.group(1)}"] = 20
        if smtp.group(2):
            codes.add(f"smtp:{smtp.group(2)}")
            ranks[f"smtp:{smtp.group(2)}"] = 10  # the enhanced code says more
    for raw, rank in envelope_codes((message, body), (body_json, message_json), headers).items():
        _add_code(raw, rank, codes, ranks)
    text = f"{message}\n{body}".lower()
    status = ctx.status_code
    from_text = False
    if status is None:
        status = _status_from(body_json if body_json is not None else message_json, text)
        from_text = status is not None
    types, raw_types = _types(ctx, message)
    structural = {ctx.error_type.strip().rsplit(".", 1)[-1].lower()} if ctx.error_type else set()
    if ctx.status_code is None and not body:
        structural |= types
    return Observed(
        status=status,
        status_from_text=from_text,
        codes=codes,
        types=types,
        text=text,
        headers=headers,
        provider=normalise_provider(ctx.provider, ctx.step_action),
        body_json=body_json if body_json is not None else message_json,
        message=message,
        body=body,
        raw_types=raw_types,
        code_ranks=ranks,
        structural_types=structural,
    )
