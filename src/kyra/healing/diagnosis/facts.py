"""Extract the typed facts a fix needs: how long to wait, which field, which format.

Inputs are attacker-reachable, so every value passes through `Facts.safe`, which drops
anything that is not a bounded number, an identifier path or a whitelisted strftime format.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis.observe import Observed
from kyra.healing.diagnosis.types import Facts
from kyra.healing.taxonomy import ErrorClass

_DURATION = re.compile(
    r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?"
    r"(?:(\d+(?:\.\d+)?)ms)?$"
)
_RETRY_TEXT = re.compile(
    r"(?:retry after|try again in|retry in|wait|reintentar en|espera)\s+(\d+(?:\.\d+)?)\s*"
    r"(ms|milliseconds?|s|sec|secs|seconds?|segundos?|m|min|minutes?|minutos?)?\b",
    re.IGNORECASE,
)
_FIELD_PATTERNS = [
    re.compile(r"'([^'\s]{1,120})' is a required property"),
    re.compile(r"^([A-Za-z_][\w.\[\]-]{0,120})\n\s+Field required", re.MULTILINE),
    re.compile(
        r"missing required (?:param|parameter|field|property|argument)s?:?\s*['\"`]?"
        r"([A-Za-z_][\w.\[\]-]{0,120})",
        re.IGNORECASE,
    ),
    re.compile(r"required fields are missing: \[([A-Za-z_][\w.]{0,120})", re.IGNORECASE),
    re.compile(
        r"(?:field|parameter|param|property)\s+['\"`]([A-Za-z_][\w.\[\]-]{0,120})['\"`]"
        r"\s+(?:is|are)\s+(?:required|missing|mandatory)",
        re.IGNORECASE,
    ),
    re.compile(
        r"['\"`]([A-Za-z_][\w.\[\]-]{0,120})['\"`]\s+(?:is|are)\s+(?:required|missing)",
        re.IGNORECASE,
    ),
    re.compile(r"\b([A-Za-z_][\w.\[\]-]{0,120}) should be defined", re.IGNORECASE),
    re.compile(r"missing required parameter in input: \"([A-Za-z_]\w{0,120})\"", re.IGNORECASE),
    re.compile(
        r"campo ['\"`]?([A-Za-z_][\w.]{0,120})['\"`]? (?:es )?(?:obligatorio|requerido)",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?:for|in|on|of) (?:the )?(?:field|parameter|param|property|campo) ['\"`]?"
        r"([A-Za-z_][\w.\[\]-]{0,120}?)['\"`]?(?=[\s:;,.)]|$)",
        re.IGNORECASE,
    ),
]
_FIELD_KEYS = ("param", "field", "parameter", "name", "property")
_FORMAT_PATTERNS = [
    re.compile(r"does not match format '([^']{2,64})'"),
    re.compile(
        r"(?:expected|expects|use|in) (?:the )?(?:format|formato)\s*[:=]?\s*['\"`]?"
        r"([YMDHhmsTZ:/.\- %a-zA-Z]{4,40}?)['\"`]?(?:[\s,.;)]|$)",
        re.IGNORECASE,
    ),
]
_FORMAT_PATTERNS.append(
    re.compile(
        r"(?:expected|expects|esperado|formato)\s*:?\s*['\"`]?((?:YYYY|DD|MM)[-/.](?:MM|DD)"
        r"[-/.](?:DD|YYYY)(?:[T ]HH:mm(?::ss)?Z?)?)"
    )
)
_ISO_WORDS = {"iso 8601": "%Y-%m-%d", "iso8601": "%Y-%m-%d", "iso-8601": "%Y-%m-%d"}
_HUMAN_TOKENS = [
    ("YYYY", "%Y"),
    ("yyyy", "%Y"),
    ("YY", "%y"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("hh", "%H"),
    ("mm", "%M"),
    ("SS", "%S"),
    ("ss", "%S"),
]
_VERSION = re.compile(
    r"(?:version|versión)[:\s'\"`]+(\d{4}-\d{2}-\d{2}|v?\d{1,4}(?:\.\d{1,4}){0,2})\b", re.IGNORECASE
)


def _seconds(value: str, now: datetime) -> float | None:
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    match = _DURATION.match(value)
    if match and any(match.groups()):
        h, m, s, ms = (float(g) if g else 0.0 for g in match.groups())
        return h * 3600 + m * 60 + s + ms / 1000
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - now).total_seconds()


def retry_after(ctx: ErrorContext, obs: Observed) -> float | None:
    """Seconds the provider asked us to wait: field, headers, body, then message text."""
    now = ctx.timestamp if ctx.timestamp.tzinfo else ctx.timestamp.replace(tzinfo=UTC)
    if ctx.retry_after and ctx.retry_after > 0:
        return ctx.retry_after
    for name in (
        "retry-after",
        "x-ratelimit-reset-after",
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
        "ratelimit-reset",
        "x-rate-limit-reset",
    ):
        value = obs.headers.get(name)
        if value:
            seconds = _seconds(value, now)
            if seconds is not None and seconds > 1e9:  # an epoch, as GitHub sends
                seconds = seconds - now.timestamp()
            if seconds is not None and seconds > 0:
                return seconds
    reset = obs.headers.get("x-ratelimit-reset")
    if reset and obs.headers.get("x-ratelimit-remaining") == "0":
        epoch = _seconds(reset, now)
        if epoch is not None and epoch > 1e9:
            return epoch - now.timestamp()
    seconds = _body_retry(obs.body_json)
    if seconds is not None:
        return seconds
    match = _RETRY_TEXT.search(obs.text)
    if match:
        number, unit = float(match.group(1)), (match.group(2) or "s").lower()
        factor = (
            0.001
            if unit.startswith("ms") or unit.startswith("milli")
            else (60.0 if unit.startswith("m") else 1.0)
        )
        return number * factor
    return None


def _body_retry(body: Any) -> float | None:
    if not isinstance(body, dict):
        return None
    candidates = [body.get("retry_after"), body.get("retryAfter")]
    params = body.get("parameters")
    if isinstance(params, dict):
        candidates.append(params.get("retry_after"))
    for value in candidates:
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return None


def missing_field(obs: Observed) -> str | None:
    """The name of the missing field, from a structured body first, then known phrasings."""
    structured = _structured_field(obs.body_json)
    if structured:
        return structured
    for pattern in _FIELD_PATTERNS:
        for source in (obs.message, obs.body):
            match = pattern.search(source)
            if match:
                return match.group(1).strip(".")
    return None


def _structured_field(body: Any, depth: int = 0) -> str | None:
    if depth > 4:
        return None
    if isinstance(body, dict):
        for key in _FIELD_KEYS:
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, list) and value and isinstance(value[0], str):
                return value[0]
        for value in body.values():
            if isinstance(value, dict | list):
                found = _structured_field(value, depth + 1)
                if found:
                    return found
    elif isinstance(body, list):
        for item in body[:5]:
            found = _structured_field(item, depth + 1)
            if found:
                return found
    return None


def _to_strftime(raw: str) -> str:
    raw = raw.strip().strip("'\"`")
    if raw.lower() in _ISO_WORDS:
        return _ISO_WORDS[raw.lower()]
    if "%" in raw:
        return raw
    out = raw
    for human, token in _HUMAN_TOKENS:
        out = out.replace(human, token)
    return out


def expected_format(obs: Observed) -> str | None:
    """The date format the service expects, as strftime (human `YYYY-MM-DD` converted)."""
    for pattern in _FORMAT_PATTERNS:
        match = pattern.search(obs.message) or pattern.search(obs.body)
        if match:
            return _to_strftime(match.group(1))
    if "iso 8601" in obs.text or "iso8601" in obs.text or "isoformat" in obs.text:
        return "%Y-%m-%d"
    return None


_DATE_TOKEN = re.compile(r"(?<![\d/.-])\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?![\d/.-])")


def date_candidates(obs: Observed) -> list[str] | None:
    """Both readings of the first ambiguous numeric date the error quotes, if any."""
    from kyra.workflows.dates import ambiguous_readings  # dateutil: only for date errors

    for token in _DATE_TOKEN.findall(f"{obs.message}\n{obs.body}"):
        readings = ambiguous_readings(token)
        if readings is not None:
            return list(readings)
    return None


_RELATIVE_WORDS = (
    r"today|tomorrow|yesterday|tonight|(?:next|last|this) (?:week(?:end)?|month|year|monday"
    r"|tuesday|wednesday|thursday|friday|saturday|sunday)|in \d+ (?:hours?|days?|weeks?|months?)"
    r"|\d+ (?:hours?|days?|weeks?|months?) ago|hoy|ma[nñ]ana|ayer|pasado ma[nñ]ana"
    r"|(?:el|la) (?:semana|mes|a[nñ]o) (?:que viene|pr[oó]xim[oa]|pasad[oa])"
    r"|pr[oó]xim[oa] (?:semana|mes|a[nñ]o|lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado"
    r"|domingo)|dentro de \d+ d[ií]as|hace \d+ d[ií]as"
)
_RELATIVE_VALUE = re.compile(
    r"(?<!like )(?<!e\.g\. )(?<!such as )(?<!or )(?<!o )[\"'`«“]"
    r"(?:" + _RELATIVE_WORDS + r")\b[\w :.]{0,12}\\?[\"'`»”]",
    re.IGNORECASE,
)
"""A quoted value that is a relative date; an example the service offers (`like 'in 1
hour'`, `or "now"`) is not the rejected value."""


def relative_date(obs: Observed) -> bool:
    """The error quotes a relative date as the rejected value (`"next friday" is not a
    valid date`): the engine refuses to fix one (`kyra.workflows.dates.parse_date` reads
    absolute dates only, so a fix never depends on when the step ran): not GREEN."""
    return bool(_RELATIVE_VALUE.search(f"{obs.message}\n{obs.body}"))


def extract(ctx: ErrorContext, obs: Observed, error_class: ErrorClass, code: str | None) -> Facts:
    """The facts relevant to `error_class`, validated; irrelevant ones are not extracted."""
    values: dict[str, Any] = {"provider_code": code}
    if error_class in (ErrorClass.RATE_LIMIT_EXCEEDED, ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE):
        seconds = retry_after(ctx, obs)
        values["retry_after_seconds"] = round(seconds, 3) if seconds else None
    if error_class in (
        ErrorClass.MISSING_REQUIRED_FIELD,
        ErrorClass.DATA_VALIDATION_ERROR,
        ErrorClass.INVALID_PARAMETER_FORMAT,
        ErrorClass.INVALID_DATE_FORMAT,
    ):
        values["field"] = missing_field(obs)
    if error_class is ErrorClass.INVALID_DATE_FORMAT:
        values["expected_format"] = expected_format(obs)
        values["date_candidates"] = date_candidates(obs)
        values["relative_date"] = relative_date(obs) or None
    if error_class in (ErrorClass.API_VERSION_MISMATCH, ErrorClass.API_DEPRECATED):
        match = _VERSION.search(obs.message) or _VERSION.search(obs.body)
        values["api_version"] = match.group(1) if match else None
    return Facts.safe(**values)
