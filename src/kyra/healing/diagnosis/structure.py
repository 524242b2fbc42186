"""What counts as structural evidence for a GREEN (auto-repaired) class.

A GREEN diagnosis changes a workflow without asking anyone, and error text is written by
whoever answered the request. So a GREEN class needs evidence the protocol carries, not
words: a transient HTTP status (429, 408, 5xx), a Retry-After or rate-limit header, an
exception a client library raised for a timeout or a broken transport, or a provider code
documented as transient. `invalid_date_format` is the one GREEN class read from text: its
fix only re-formats a value the engine itself parses unambiguously (see remedies), and an
ambiguous value (`03/12/2026`) turns the fix into a YELLOW proposal.

Evidence of a RED class in the body (a billing denial under a 503, a revoked token under a
200) overrides a transient status: the error is RED whatever the status says.
"""

from __future__ import annotations

import re

from kyra.healing.diagnosis.envelopes import retry_flag
from kyra.healing.diagnosis.observe import Observed
from kyra.healing.diagnosis.signatures import Match, Signature
from kyra.healing.diagnosis.vocab import transient_type
from kyra.healing.taxonomy import ErrorClass, Safety, info

TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})
RATE_HEADERS = ("retry-after", "x-ratelimit-reset-after", "ratelimit-reset", "x-rate-limit-reset")
LOOSE_RANK = 30
"""Codes under `type`/`status`/`title` keys (rank >= 30) are too loose to name an error."""
TEXT_ONLY_GREEN = frozenset({ErrorClass.INVALID_DATE_FORMAT})
DATE_WORDS = re.compile(
    r"date|time|iso.?8601|isoformat|rfc.?3339|yyyy|epoch|\bmonths?\b|\bdays?\b"
    r"|unconverted data|string format|fecha|\bhora\b|\bd[ií]as?\b|\bmes(es)?\b"
)


DATE_RELATION = re.compile(
    r"date.?range|range of dates|more recent|too (?:old|far)|older than|rango de fechas"
)
"""A date refused for its value (a range, before/after another date), not its format."""


def date_evidence(obs: Observed) -> bool:
    """A date error is GREEN only when the error speaks of a date or a time: "expected
    format" alone (an amount sent as `12,50`) is not one the date remedy can fix, and a
    date refused for its value (a range, "more recent") is no format the remedy changes."""
    return bool(DATE_WORDS.search(obs.text)) and not DATE_RELATION.search(obs.text)


OS_ERRORS = frozenset({"oserror", "ioerror", "error", "socket.error"})
NETWORK_ERRNO = re.compile(r"\[errno (?:-2|-3|-5|101|103|104|110|111|112|113|32)\]")
NODE_ERRNO = re.compile(
    r"\b(?:ETIMEDOUT|ECONNRESET|ECONNREFUSED|ECONNABORTED|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH"
    r"|EPIPE|ESOCKETTIMEDOUT|ERR_SOCKET_TIMEOUT)\b"
)
"""The same errnos by name, as Node.js and libuv report them (npm, node child processes)."""
SERVER_FAILURE_CODE = re.compile(
    r"internal|unknown_error|unexpected|general|unspecified|server|system|backend|application_error"
)
"""Codes that only say the server failed (`InternalError`, `application_error`,
`unknown_error`): under a 500 they are the outage's name, not a specific error."""
"""Network errnos of an OSError the client raised: ENETUNREACH, ECONNRESET, ETIMEDOUT,
ECONNREFUSED, EHOSTUNREACH, EPIPE and the resolver's EAI_*: the errno is structure."""


def transient_headers(obs: Observed) -> bool:
    """A Retry-After (or equivalent) header, or a rate-limit budget spent to zero."""
    if any(obs.headers.get(name) for name in RATE_HEADERS):
        return True
    remaining = obs.headers.get("x-ratelimit-remaining") or obs.headers.get("ratelimit-remaining")
    return remaining is not None and remaining.strip() == "0"


def specific_codes(obs: Observed) -> bool:
    """The body names its own error (a word code under a code-like key): then a bare 500
    is that error's envelope (Mandrill answers every error with 500), not an outage."""
    return any(
        rank < LOOSE_RANK
        and any(c.isalpha() for c in code)
        and not code.startswith("smtp:")
        and not SERVER_FAILURE_CODE.search(code)
        for code, rank in obs.code_ranks.items()
    )


def status_transient(obs: Observed, status: int | None) -> bool:
    """A transient status; 500 only when the body does not name a specific error."""
    if status is None or status not in TRANSIENT_STATUS:
        return False
    return status != 500 or not specific_codes(obs)


def green_backed(match: Match, obs: Observed) -> bool:
    """True when this GREEN match rests on structure (status, header, code, raised type)."""
    if match.signature.error_class in TEXT_ONLY_GREEN:
        return date_evidence(obs)
    for condition in match.matched:
        kind, _, value = condition.partition("=")
        if kind in ("code", "header", "errno"):
            return True
        if kind == "status" and value.isdigit() and status_transient(obs, int(value)):
            return True
        if kind == "type" and value in obs.structural_types:
            return True
    return False


def network_errno(obs: Observed) -> bool:
    """A network errno the client's own OS reported (not a word in a body): an OSError
    with one, or any exception a client raised with no HTTP answer at all whose message
    carries one (`pymysql ... ([Errno 111] Connection refused)`, npm's `code ECONNRESET`)."""
    message = obs.message.lower()
    if obs.structural_types & OS_ERRORS and NETWORK_ERRNO.search(message):
        return True
    local = obs.status is None and not obs.body and bool(obs.structural_types)
    return local and bool(NETWORK_ERRNO.search(message) or NODE_ERRNO.search(obs.message))


def structural_green(obs: Observed) -> bool:
    """Evidence, independent of any rule, that the error may be transient (for the model)."""
    if status_transient(obs, obs.status):
        return True
    return (
        transient_headers(obs)
        or network_errno(obs)
        or transient_type(obs) is not None
        or retry_flag(obs.body_json)
    )


QUOTA_PERIOD_SECONDS = 86_400
"""A Retry-After of a day or more is a quota period, not a rate window."""
PERIOD_WORDS = ("24hour", "day", "daily", "month")
SPENT_PERIODS = frozenset({"day", "daily", "month", "monthly"})


def quota_match(obs: Observed) -> Match | None:
    """Header semantics of a spent daily/monthly allowance: a `*-day*-remaining: 0` budget
    header, a rate-limit header naming the day or month as the spent window, or a
    Retry-After of a day or more. Waiting within the workflow cannot help:
    a person raises the quota or the plan (billing_issue, RED)."""
    found: str | None = None
    for name, value in obs.headers.items():
        if "remaining" in name and any(w in name for w in PERIOD_WORDS) and value.strip() == "0":
            found = name
        # the header that names which window ran out: Xero's `X-Rate-Limit-Problem: day`
        if "limit" in name and value.strip().lower() in SPENT_PERIODS:
            found = name
    retry = obs.headers.get("retry-after", "").strip()
    if found is None and retry.isdigit() and int(retry) >= QUOTA_PERIOD_SECONDS:
        found = "retry-after"
    if found is None:
        return None
    signature = Signature(
        id="header.quota_spent", error_class=ErrorClass.BILLING_ISSUE, confidence=85
    )
    return Match(signature, 15 + 20, [f"header={found}"])


def red_from_body(matches: list[Match]) -> Match | None:
    """The best RED match that rests on the body or the headers (a code, the text, a
    quota header), not on the status alone, if any."""
    for match in matches:
        if info(match.signature.error_class).safety is not Safety.RED:
            continue
        if any(c.startswith(("code=", "text=", "header=")) for c in match.matched):
            return match
    return None


def choose(matches: list[Match], obs: Observed) -> tuple[Match | None, list[str]]:
    """The deciding match once GREEN needs structure and RED body evidence overrides GREEN;
    with notes saying what was set aside. None when every match was set aside."""
    notes: list[str] = []
    vetoed = any(m.signature.veto_green for m in matches)
    red = red_from_body(matches)
    # Once structure shows the error is transient, words may say which transient class.
    transient = (
        structural_green(obs)
        or network_errno(obs)
        or any(
            green_backed(m, obs)
            for m in matches
            if info(m.signature.error_class).safety is Safety.GREEN
            and m.signature.error_class not in TEXT_ONLY_GREEN
        )
    )
    for match in matches:
        if info(match.signature.error_class).safety is not Safety.GREEN:
            return match, notes
        cls = match.signature.error_class.value
        if vetoed:
            notes.append(f"{match.signature.id} would say {cls}, but the status forbids GREEN")
        elif red is not None:
            notes.append(
                f"{match.signature.id} would say {cls}, but the body shows "
                f"{red.signature.error_class.value}"
            )
            return red, notes
        elif not (green_backed(match, obs) or transient):
            notes.append(f"{match.signature.id} would say {cls} from words alone: not GREEN")
        else:
            return match, notes
    return None, notes
