"""Generic token vocabularies for what no provider table knows.

Exception class names follow conventions across client libraries: `NetworkTimeout`
(pymongo), `TimedOut` (python-telegram-bot), `ServerSelectionTimeoutError`, `TryAgainError`
(redis), `TooManyConnections` (psycopg). A type the client library *raised* (the step's
`error_type`, not a name inside remote prose) is structure, so its name may say that the
error is transient even when no signature lists that exact class. The vocabulary is a
handful of word pieces, ordered from most to least specific; names that also speak of
security, credentials or permissions never count as transient (`InsecureTransportError`,
`CredentialUnavailableError`).
"""

from __future__ import annotations

import re

from kyra.healing.diagnosis.observe import Observed
from kyra.healing.diagnosis.signatures import Match, Signature
from kyra.healing.taxonomy import ErrorClass

TYPE_TOKENS: tuple[tuple[re.Pattern[str], ErrorClass], ...] = tuple(
    (re.compile(pattern), cls)
    for pattern, cls in (
        (r"ratelimit|throttl|toomanyrequests", ErrorClass.RATE_LIMIT_EXCEEDED),
        (r"connect\w*timeout|serverselectiontimeout|logintimeout", ErrorClass.CONNECTION_TIMEOUT),
        (
            r"timeout|timedout|deadlineexceeded|querycancel|locknotavailable",
            ErrorClass.TIMEOUT_ERROR,
        ),
        (
            r"connect|network|transport|brokenpipe|gaierror|disconnect|remoteprotocol"
            r"|^readerror$|reconnect",
            ErrorClass.CONNECTION_TIMEOUT,
        ),
        (
            r"unavailable|tryagain|busyloading|clusterdown|toomanyconnections|notprimary"
            r"|deadlock|serializationfailure|adminshutdown|cannotconnectnow|overloaded"
            r"|^(internal)?servererror$",
            ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE,
        ),
    )
)
NOT_TRANSIENT = re.compile(
    r"insecure|ssl|cert|auth|credential|permission|forbidden|denied|quota|billing|payment"
    r"|invalid|validation|notfound"
)
TYPE_TOKEN_CONFIDENCE = 86


def transient_type(obs: Observed) -> tuple[str, ErrorClass] | None:
    """The first raised exception type whose name says transient, with that class."""
    for pattern, cls in TYPE_TOKENS:
        for name in sorted(obs.structural_types):
            if not NOT_TRANSIENT.search(name) and pattern.search(name):
                return name, cls
    return None


def type_token_match(obs: Observed) -> Match | None:
    """A raised transient exception type as a match (weighted like a `types` signature,
    below the hand-written ones, so a listed type or a RED body still decides)."""
    found = transient_type(obs)
    if found is None:
        return None
    name, cls = found
    signature = Signature(
        id=f"type_token.{cls.value}", error_class=cls, confidence=TYPE_TOKEN_CONFIDENCE
    )
    return Match(signature, 30 - 5, [f"type={name}"])


def errno_match(obs: Observed, reported: bool) -> Match | None:
    """A network errno the client's OS reported (`reported`, see `structure.network_errno`)
    as a connection failure, weighted below a listed exception type or a text rule, which
    may name the timeout or outage more precisely."""
    if not reported:
        return None
    signature = Signature(
        id="errno.network", error_class=ErrorClass.CONNECTION_TIMEOUT, confidence=84
    )
    return Match(signature, 30 - 8, ["errno=network"])
