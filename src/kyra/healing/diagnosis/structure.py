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

from kyra.healing.diagnosis.observe import Observed
from kyra.healing.diagnosis.signatures import Match
from kyra.healing.taxonomy import ErrorClass, Safety, info

TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})
RATE_HEADERS = ("retry-after", "x-ratelimit-reset-after", "ratelimit-reset", "x-rate-limit-reset")
TEXT_ONLY_GREEN = frozenset({ErrorClass.INVALID_DATE_FORMAT})
OS_ERRORS = frozenset({"oserror", "ioerror", "error", "socket.error"})
NETWORK_ERRNO = re.compile(r"\[errno (?:-2|-3|-5|101|103|104|110|111|112|113|32)\]")
"""Network errnos of an OSError the client raised: ENETUNREACH, ECONNRESET, ETIMEDOUT,
ECONNREFUSED, EHOSTUNREACH, EPIPE and the resolver's EAI_*: the errno is structure."""


def transient_headers(obs: Observed) -> bool:
    """A Retry-After (or equivalent) header, or a rate-limit budget spent to zero."""
    if any(obs.headers.get(name) for name in RATE_HEADERS):
        return True
    remaining = obs.headers.get("x-ratelimit-remaining") or obs.headers.get("ratelimit-remaining")
    return remaining is not None and remaining.strip() == "0"


def green_backed(match: Match, obs: Observed) -> bool:
    """True when this GREEN match rests on structure (status, header, code, raised type)."""
    if match.signature.error_class in TEXT_ONLY_GREEN:
        return True
    for condition in match.matched:
        kind, _, value = condition.partition("=")
        if kind in ("code", "header"):
            return True
        if kind == "status" and value.isdigit() and int(value) in TRANSIENT_STATUS:
            return True
        if kind == "type" and value in obs.structural_types:
            return True
    return False


def network_errno(obs: Observed) -> bool:
    """An OSError the client raised with a network errno (not a word in a body)."""
    return bool(obs.structural_types & OS_ERRORS) and bool(
        NETWORK_ERRNO.search(obs.message.lower())
    )


def structural_green(obs: Observed) -> bool:
    """Evidence, independent of any rule, that the error may be transient (for the model)."""
    if obs.status is not None and obs.status in TRANSIENT_STATUS:
        return True
    return transient_headers(obs)


def red_from_body(matches: list[Match]) -> Match | None:
    """The best RED match that rests on the body (a code or the text), if any."""
    for match in matches:
        if info(match.signature.error_class).safety is not Safety.RED:
            continue
        if any(c.startswith(("code=", "text=")) for c in match.matched):
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
