"""Provider codes as data: provider -> code -> class, looked up for an observed error.

Built from the knowledge base's `codes:` tables (at build time, see `build.py`). Two views:

- the provider's own table, used when the step names the provider (`slack` + `ratelimited`);
- a shared table of codes whose meaning the providers that document them agree on
  (`invalid_grant`, `insufficient_quota`, SQLSTATE `40001`...), used for any provider, so a
  provider the base has never seen still benefits from the others' documentation.

Purely numeric codes mean different things at different providers (Twilio 20003 vs.
Discord 50027): they are shared only when namespaced (`smtp:`, `sqlstate:`, `grpc:`).
A code's key in the body matters: `code`/`reason` are more specific than `type`/`error`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from kyra.healing.diagnosis.code_tokens import learn_tokens, token_class
from kyra.healing.diagnosis.observe import GRPC_STATUS, SMTP_REPLIES, Observed
from kyra.healing.diagnosis.sqlstate import standard_class
from kyra.healing.taxonomy import ErrorClass, Safety, info

SHARED_MIN_AGREEMENT = 0.75
"""A code enters the shared table when at least this share of its providers agree."""
NAMESPACED = ("smtp:", "sqlstate:", "grpc:")
DANGER = {Safety.RED: 2, Safety.YELLOW: 1, Safety.GREEN: 0}
_SMTP_REPLY = re.compile(r"^[245]\d\d$")
_SMTP_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
_SQLSTATE = re.compile(r"^[0-9][0-9a-z]{4}$")


def namespaced(code: str, sector: str) -> str | None:
    """The protocol-wide name of a provider code, when its shape and the provider's
    sector say which protocol it belongs to: `550` of a mail service is `smtp:550`."""
    reply = sector == "email" and _SMTP_REPLY.match(code) and int(code) in SMTP_REPLIES
    if _SMTP_ENHANCED.match(code) or reply:
        return f"smtp:{code}"
    if sector == "database" and _SQLSTATE.match(code):
        return f"sqlstate:{code}"
    if code in GRPC_STATUS:
        return f"grpc:{code}"
    return None


@dataclass(frozen=True)
class CodeHit:
    """A provider code the tables know, with where its meaning came from."""

    code: str
    error_class: ErrorClass
    scope: str
    """`provider` (the step's provider documents it) or `shared` (other providers do)."""
    rank: int
    """Lower is more specific (the key the code was found under, its depth)."""
    umbrella: bool = False
    """The code names a family of errors (see `CodeTables.umbrella`): weak evidence."""


def shareable(code: str) -> bool:
    """Codes that may carry their meaning across providers: words or namespaced values."""
    if code.startswith(NAMESPACED):
        return True
    return len(code) >= 4 and any(c.isalpha() for c in code)


def shared_table(tables: dict[str, dict[str, ErrorClass]]) -> dict[str, ErrorClass]:
    """Codes the documenting providers agree on (and never GREEN where any says RED)."""
    votes: dict[str, Counter[ErrorClass]] = {}
    for table in tables.values():
        for code, cls in table.items():
            if shareable(code):
                votes.setdefault(code, Counter())[cls] += 1
    shared: dict[str, ErrorClass] = {}
    for code, counter in sorted(votes.items()):
        cls, count = max(counter.items(), key=lambda item: (item[1], DANGER[info(item[0]).safety]))
        if count / sum(counter.values()) < SHARED_MIN_AGREEMENT:
            continue
        dangers = {info(c).safety for c in counter}
        if info(cls).safety is Safety.GREEN and dangers != {Safety.GREEN}:
            continue
        shared[code] = cls
    return shared


@dataclass
class CodeTables:
    """The compiled code tables, ready for lookups."""

    by_provider: dict[str, dict[str, ErrorClass]] = field(default_factory=dict)
    shared: dict[str, ErrorClass] = field(default_factory=dict)
    tokens: dict[str, ErrorClass] = field(default_factory=dict)
    """Code words -> class (see `code_tokens.py`), for codes no table knows."""
    umbrella: set[str] = field(default_factory=set)
    """Codes whose documented examples mostly mean other classes than the table says
    (`invalid_request_error`, `bad_request`, `validation_error`): a family, not an error."""

    @classmethod
    def build(
        cls, tables: dict[str, dict[str, ErrorClass]], sectors: dict[str, str] | None = None
    ) -> CodeTables:
        """Tables from provider -> code -> class (codes lower-case); each provider's codes
        are also entered under their protocol-wide names (`smtp:550`) for sharing."""
        full: dict[str, dict[str, ErrorClass]] = {}
        for provider, table in tables.items():
            sector = (sectors or {}).get(provider, "")
            extended = dict(table)
            for code, error_class in table.items():
                name = namespaced(code, sector)
                if name:
                    extended.setdefault(name, error_class)
            full[provider] = extended
        return cls(full, shared_table(full), learn_tokens(full))

    def to_json(self) -> dict[str, object]:
        return {
            "by_provider": {
                p: {c: k.value for c, k in sorted(t.items())}
                for p, t in sorted(self.by_provider.items())
            },
            "shared": {c: k.value for c, k in sorted(self.shared.items())},
            "tokens": {c: k.value for c, k in sorted(self.tokens.items())},
            "umbrella": sorted(self.umbrella),
        }

    @classmethod
    def from_json(cls, data: dict[str, dict[str, object]]) -> CodeTables:
        by_provider = {
            str(p): {str(c): ErrorClass(str(k)) for c, k in dict(t).items()}  # type: ignore[call-overload]
            for p, t in data["by_provider"].items()
        }
        shared = {str(c): ErrorClass(str(k)) for c, k in data["shared"].items()}
        tokens = {str(c): ErrorClass(str(k)) for c, k in data.get("tokens", {}).items()}
        umbrella = {str(c) for c in data.get("umbrella", [])}
        return cls(by_provider, shared, tokens, umbrella)

    def lookup(self, obs: Observed) -> list[CodeHit]:
        """Every observed code a table knows, most specific first (provider before shared,
        then by the key it came under, then the more dangerous class)."""
        own = self.by_provider.get(obs.provider, {})
        hits: list[CodeHit] = []
        for code in obs.codes:
            rank = obs.code_ranks.get(code, 50)
            bare = code.split(":", 1)[1] if code.startswith(NAMESPACED) else code
            if code in own or bare in own:
                cls = own.get(code) or own[bare]
                hits.append(CodeHit(code, cls, "provider", rank, code in self.umbrella))
            elif code in self.shared:
                umbrella = code in self.umbrella
                hits.append(CodeHit(code, self.shared[code], "shared", rank, umbrella))
            elif (standard := standard_class(code)) is not None:
                hits.append(CodeHit(code, standard, "shared", rank))
            elif (found := token_class(code, self.tokens)) is not None:
                hits.append(CodeHit(code, found[1], "token", rank))
        scopes = {"provider": 0, "shared": 1, "token": 2}
        hits.sort(
            key=lambda h: (
                h.umbrella,
                scopes[h.scope],
                h.rank,
                -DANGER[info(h.error_class).safety],
            )
        )
        return hits
