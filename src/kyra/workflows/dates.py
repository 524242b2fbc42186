"""Date parsing and formatting for step parameters, and strftime formats we can trust.

Healing may add a date normaliser whose format comes from a remote error message
("date must be YYYY-MM-DD"). That text is attacker-controlled, so formats are accepted
only when built from a small whitelist of strftime directives and separators
(`validate_strftime`), and human patterns are translated only when every token is
understood (`infer_strftime`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, cast

from dateutil import parser as dateutil_parser

MAX_DATE_TEXT = 100
"""Longer strings are not dates; the cap also bounds the fallback parser's work."""
MAX_FORMAT_LENGTH = 64

ALLOWED_DIRECTIVES = frozenset("YmdHMSybBaAjzZfIpTFe")
"""strftime directives glibc and every libc we run on support identically."""
ALLOWED_SEPARATORS = frozenset("-/.:, TZ")

MESSAGES = {
    "empty": "an empty string is not a date",
    "too_long": "{text!r} is too long to be a date",
    "unparsable": "{text!r} is not a date Kyra can read (try a form like 2026-11-26)",
    "incomplete": "{text!r} is not a complete date (a day, month and year are needed)",
    "format_empty": "a date format needs at least one % directive, like '%Y-%m-%d'",
    "format_long": "a date format has at most {limit} characters",
    "format_directive": "date format {fmt!r} uses %{char}, which Kyra does not allow",
    "format_char": "date format {fmt!r} contains {char!r}; only directives and - / . : , T Z "
    "and spaces are allowed",
}

# Two defaults that differ in every date field: a field dateutil filled in from the
# default (because the text lacks it) shows up as a difference between the two parses.
_DEFAULT_A = datetime(2000, 1, 1)  # naive on purpose: it only fills gaps
_DEFAULT_B = datetime(2001, 2, 2)
_EPOCH = re.compile(r"^\d{10}(\.\d{1,6})?$")
_YEAR_FIRST = re.compile(r"^\d{4}[-/.]")


def parse_date(
    text: str, *, dayfirst: bool = True, languages: tuple[str, ...] = ("en", "es")
) -> datetime:
    """Parse a date or datetime written by a person or a service.

    ISO 8601 first (exact), then python-dateutil (`26/11/2026`, `Nov 26, 2026`), then
    dateparser for other languages (`26 de noviembre de 2026`). A 10-digit number is
    read as epoch seconds (UTC). Text without a day, month and year is refused rather
    than completed from today. The result is naive unless the text carries an offset.

    Raises:
        ValueError: with a sentence, when the text is not a complete date.
    """
    cleaned = text.strip()
    if not cleaned:
        raise ValueError(MESSAGES["empty"])
    if len(cleaned) > MAX_DATE_TEXT:
        raise ValueError(MESSAGES["too_long"].format(text=cleaned[:40] + "..."))
    if _EPOCH.match(cleaned):
        return datetime.fromtimestamp(float(cleaned), tz=UTC)
    try:
        return datetime.fromisoformat(cleaned)
    except ValueError:
        pass
    parsed = _parse_dateutil(cleaned, dayfirst=dayfirst)
    if parsed is None:
        parsed = _parse_dateparser(cleaned, dayfirst=dayfirst, languages=languages)
    if parsed is None:
        raise ValueError(MESSAGES["unparsable"].format(text=cleaned))
    return parsed


def _parse_dateutil(text: str, *, dayfirst: bool) -> datetime | None:
    # dateutil reads `2026-01-02` as 1 February when dayfirst=True; year-first text
    # is never day-first, so switch to year-first there.
    year_first = bool(_YEAR_FIRST.match(text))
    options: dict[str, Any] = {"dayfirst": dayfirst and not year_first, "yearfirst": year_first}
    try:
        first = dateutil_parser.parse(text, default=_DEFAULT_A, **options)
        second = dateutil_parser.parse(text, default=_DEFAULT_B, **options)
    except (ValueError, OverflowError):
        return None
    if (first.year, first.month, first.day) != (second.year, second.month, second.day):
        raise ValueError(MESSAGES["incomplete"].format(text=text))
    return cast(datetime, first)


def _parse_dateparser(text: str, *, dayfirst: bool, languages: tuple[str, ...]) -> datetime | None:
    # Imported here, not at module level: dateparser is a core dependency, but loading
    # its language data costs start-up time that most runs (ISO dates) never need.
    import dateparser  # type: ignore[import-untyped]

    settings: dict[str, Any] = {
        "DATE_ORDER": "DMY" if dayfirst else "MDY",
        "STRICT_PARSING": True,  # day, month and year must all be present
        # No relative dates ("tomorrow", "hace 2 días"): a normalised parameter must
        # not depend on when the step happens to run.
        "PARSERS": ["custom-formats", "absolute-time"],
    }
    try:
        parsed = dateparser.parse(text, languages=list(languages), settings=settings)
        return cast(datetime | None, parsed)
    except (ValueError, OverflowError, TypeError):
        return None


_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\s*$")


def ambiguous_readings(text: str) -> tuple[str, str] | None:
    """Both ISO readings of a numeric date that is valid day-first AND month-first
    (`03/12/2026`: 3 December or 12 March), else None. Nothing may pick one silently."""
    match = _NUMERIC_DATE.match(text)
    if not match:
        return None
    first, second, year = (int(g) for g in match.groups())
    if len(match.group(3)) == 2:
        year += 2000
    if first == second or first > 12 or second > 12 or not (first and second):
        return None
    try:
        day_first = date(year, second, first)
        month_first = date(year, first, second)
    except ValueError:
        return None
    return day_first.isoformat(), month_first.isoformat()


def format_date(value: date | datetime, fmt: str) -> str:
    """Format a date with a validated format; a literal trailing `Z` means UTC."""
    fmt = validate_strftime(fmt)
    literal_z = fmt.endswith("Z") and not fmt.endswith("%Z")
    if literal_z and isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime(fmt)


def normalise_date(text: str, fmt: str) -> str:
    """Rewrite a date string into `fmt`; raises ValueError when either is invalid."""
    return format_date(parse_date(text), fmt)


def validate_strftime(fmt: str) -> str:
    """Return `fmt` when it holds only whitelisted directives and separators.

    Formats may come from error messages written by a remote service, so anything
    outside the whitelist (literal text, `%n`, `%%`, locale-specific `%c`) is refused.

    Raises:
        ValueError: naming the offending character.
    """
    if len(fmt) > MAX_FORMAT_LENGTH:
        raise ValueError(MESSAGES["format_long"].format(limit=MAX_FORMAT_LENGTH))
    has_directive = False
    index = 0
    while index < len(fmt):
        char = fmt[index]
        if char == "%":
            directive = fmt[index + 1 : index + 2]
            if directive not in ALLOWED_DIRECTIVES or not directive:
                raise ValueError(MESSAGES["format_directive"].format(fmt=fmt, char=directive or ""))
            has_directive = True
            index += 2
            continue
        if char not in ALLOWED_SEPARATORS:
            raise ValueError(MESSAGES["format_char"].format(fmt=fmt, char=char))
        index += 1
    if not has_directive:
        raise ValueError(MESSAGES["format_empty"])
    return fmt


# Human pattern tokens, longest first so `YYYY` wins over `YY`.
_TOKEN = re.compile(
    r"YYYY|yyyy|MMMM|MMM|MM|EEEE|EEE|dddd|ddd|DD|dd|YY|yy|HH|hh|mm|SSSSSS|SS|ss|XXX|ZZ|Z"
    r"|A|a|T|[-/.:, ]"
)
_FIXED_TOKENS = {
    "YYYY": "%Y",
    "yyyy": "%Y",
    "YY": "%y",
    "yy": "%y",
    "MMMM": "%B",
    "MMM": "%b",
    "DD": "%d",
    "dd": "%d",
    "HH": "%H",
    "ss": "%S",
    "SS": "%S",
    "SSSSSS": "%f",
    "EEEE": "%A",
    "dddd": "%A",
    "EEE": "%a",
    "ddd": "%a",
    "A": "%p",
    "a": "%p",
    "ZZ": "%z",
    "XXX": "%z",
    "Z": "Z",
    "T": "T",
}
_ISO_NAMES = {
    "iso8601": "%Y-%m-%d",
    "iso8601date": "%Y-%m-%d",
    "iso8601datetime": "%Y-%m-%dT%H:%M:%SZ",
    "rfc3339": "%Y-%m-%dT%H:%M:%SZ",
}
_EXAMPLES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"), "%Y-%m-%dT%H:%M:%SZ"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"), "%Y-%m-%dT%H:%M:%S.%fZ"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$"), "%Y-%m-%dT%H:%M:%S%z"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"), "%Y-%m-%dT%H:%M:%S"),
    (re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"), "%Y-%m-%d %H:%M:%S"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{4}/\d{2}/\d{2}$"), "%Y/%m/%d"),
    (re.compile(r"^\d{8}$"), "%Y%m%d"),
]
_DAY_MONTH = re.compile(r"^(\d{2})([-/.])(\d{2})\2(\d{4})$")


def infer_strftime(example_or_pattern: str) -> str | None:
    """Translate `YYYY-MM-DD`, `DD/MM/YYYY`, `ISO 8601` or an example like `26/11/2026`
    into a strftime format; None when the text cannot be read unambiguously."""
    text = example_or_pattern.strip()
    if not text or len(text) > MAX_FORMAT_LENGTH:
        return None
    key = re.sub(r"[\s_-]", "", text.lower())
    if key in _ISO_NAMES:
        return _ISO_NAMES[key]
    if "%" in text:
        try:
            return validate_strftime(text)
        except ValueError:
            return None
    fmt = _infer_from_example(text) or _infer_from_pattern(text)
    if fmt is None:
        return None
    try:
        return validate_strftime(fmt)
    except ValueError:
        return None


def _infer_from_example(text: str) -> str | None:
    for pattern, fmt in _EXAMPLES:
        if pattern.match(text):
            return fmt if _parses(text, fmt) else None
    match = _DAY_MONTH.match(text)
    if match is None:
        return None
    first, sep, second = int(match.group(1)), match.group(2), int(match.group(3))
    if first > 12 >= second:
        fmt = f"%d{sep}%m{sep}%Y"
    elif second > 12 >= first:
        fmt = f"%m{sep}%d{sep}%Y"
    else:
        return None  # 05/06/2026: day-first and month-first are both possible
    return fmt if _parses(text, fmt) else None


def _parses(text: str, fmt: str) -> bool:
    try:
        datetime.strptime(text, fmt)  # only checks the shape
    except ValueError:
        return False
    return True


def _infer_from_pattern(text: str) -> str | None:
    parts: list[str] = []
    position = 0
    seen_hour = False
    for match in _TOKEN.finditer(text):
        if match.start() != position:
            return None  # a character no token explains
        token = match.group()
        position = match.end()
        if token in ("MM", "mm"):
            # Java's `mm` is minutes, but people write `yyyy-mm-dd` for months: read it
            # as minutes only after an hour; `HH:MM` likewise means minutes.
            parts.append("%M" if seen_hour else "%m")
        elif token == "hh":
            seen_hour = True
            parts.append("%I" if re.search(r"(?<![A-Za-z])[Aa](?![A-Za-z])", text) else "%H")
        else:
            seen_hour = seen_hour or token == "HH"
            parts.append(_FIXED_TOKENS.get(token, token))
    if position != len(text) or not any(part.startswith("%") for part in parts):
        return None
    return "".join(parts)


__all__ = [
    "ALLOWED_DIRECTIVES",
    "ALLOWED_SEPARATORS",
    "format_date",
    "infer_strftime",
    "normalise_date",
    "parse_date",
    "validate_strftime",
]
