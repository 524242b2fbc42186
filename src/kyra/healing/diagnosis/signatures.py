"""Tier 1: signature rules, loaded from `data/signatures.yaml`.

A signature is a set of conditions on the observed error (status, headers, provider codes,
exception types, text). The matcher scores every signature whose conditions all hold and
keeps the best; ties go to the more dangerous class, and a `veto_green` signature (e.g.
status 401) forbids a GREEN answer whatever the body says. See the YAML header for the
scoring weights.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from kyra.healing.diagnosis.observe import Observed
from kyra.healing.taxonomy import ErrorClass, Safety, info

WEIGHTS = {"codes": 40, "types": 30, "text": 20, "headers": 15, "status": 10, "providers": 5}
DANGER = {Safety.RED: 2, Safety.YELLOW: 1, Safety.GREEN: 0}
_KNOWN_KEYS = {
    "id",
    "class",
    "confidence",
    "priority",
    "veto_green",
    "source",
    "unless",
    *WEIGHTS,
}


@dataclass(frozen=True)
class Signature:
    """One rule: conditions that must all hold, and the class they identify."""

    id: str
    error_class: ErrorClass
    confidence: int
    priority: int = 0
    status: frozenset[int] = frozenset()
    status_families: frozenset[int] = frozenset()
    status_none: bool = False
    codes: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    text: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    providers: frozenset[str] = frozenset()
    veto_green: bool = False

    def match(self, obs: Observed) -> list[str] | None:
        """The conditions that matched, or None when any condition fails."""
        matched: list[str] = []
        for check in (self._match_status, self._match_sets, self._match_headers, self._match_text):
            found = check(obs)
            if found is None:
                return None
            matched.extend(found)
        if self.unless is not None and self.unless.search(obs.text):
            return None
        return matched

    def _match_status(self, obs: Observed) -> list[str] | None:
        if not (self.status or self.status_families or self.status_none):
            return []
        return [f"status={obs.status}"] if self._status_ok(obs.status) else None

    def _match_sets(self, obs: Observed) -> list[str] | None:
        matched: list[str] = []
        for name, wanted, seen in (
            ("code", self.codes, obs.codes),
            ("type", self.types, obs.types),
            ("provider", self.providers, {obs.provider}),
        ):
            if not wanted:
                continue
            hit = sorted(wanted & seen)
            if not hit:
                return None
            matched.append(f"{name}={hit[0]}")
        return matched

    def _match_headers(self, obs: Observed) -> list[str] | None:
        matched: list[str] = []
        for name, expected in self.headers:
            value = obs.headers.get(name)
            if value is None or (expected != "*" and value.strip() != expected):
                return None
            matched.append(f"header={name}")
        return matched

    def _match_text(self, obs: Observed) -> list[str] | None:
        if self.text is None:
            return []
        found = self.text.search(obs.text)
        return [f"text={found.group(0)[:60]!r}"] if found else None

    def _status_ok(self, status: int | None) -> bool:
        if status is None:
            return self.status_none
        return status in self.status or status // 100 in self.status_families

    @property
    def base_score(self) -> int:
        score = self.priority
        for name in WEIGHTS:
            if name == "status":
                present = bool(self.status or self.status_families or self.status_none)
            else:
                present = bool(getattr(self, name))
            score += WEIGHTS[name] if present else 0
        return score


@dataclass(frozen=True)
class Match:
    signature: Signature
    score: int
    matched: list[str] = field(default_factory=list)

    @property
    def danger(self) -> int:
        return DANGER[info(self.signature.error_class).safety]


def _parse(entry: dict[str, Any]) -> Signature:
    unknown = set(entry) - _KNOWN_KEYS
    if unknown:
        raise ValueError(f"signature {entry.get('id')!r}: unknown keys {sorted(unknown)}")
    status: set[int] = set()
    families: set[int] = set()
    none = False
    for item in entry.get("status", []):
        if isinstance(item, int):
            status.add(item)
        elif str(item).lower() == "none":
            none = True
        elif re.fullmatch(r"[1-5]xx", str(item)):
            families.add(int(str(item)[0]))
        else:
            raise ValueError(f"signature {entry['id']!r}: bad status {item!r}")
    flags = re.IGNORECASE
    return Signature(
        id=str(entry["id"]),
        error_class=ErrorClass(entry["class"]),
        confidence=int(entry["confidence"]),
        priority=int(entry.get("priority", 0)),
        status=frozenset(status),
        status_families=frozenset(families),
        status_none=none,
        codes=frozenset(str(c).lower() for c in entry.get("codes", [])),
        types=frozenset(str(t).lower() for t in entry.get("types", [])),
        text=re.compile(entry["text"], flags) if entry.get("text") else None,
        unless=re.compile(entry["unless"], flags) if entry.get("unless") else None,
        headers=tuple((k.lower(), str(v)) for k, v in entry.get("headers", {}).items()),
        providers=frozenset(str(p).lower() for p in entry.get("providers", [])),
        veto_green=bool(entry.get("veto_green", False)),
    )


def load_signatures(text: str | None = None) -> list[Signature]:
    """Parse the signature file (or `text`); raises ValueError on a malformed rule."""
    if text is None:
        text = (
            resources.files("kyra.healing.diagnosis")
            .joinpath("data/signatures.yaml")
            .read_text(encoding="utf-8")
        )
    import yaml  # here, not at import: parsing happens at the first diagnosis

    entries = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(entries, list):
        raise ValueError("the signature file must be a list of rules")
    signatures = [_parse(entry) for entry in entries]
    ids = [s.id for s in signatures]
    if len(ids) != len(set(ids)):
        raise ValueError("signature ids must be unique")
    return signatures


class SignatureSet:
    """The loaded rules and the matcher."""

    def __init__(self, signatures: list[Signature] | None = None) -> None:
        self.signatures = signatures if signatures is not None else load_signatures()

    def matches(self, obs: Observed) -> list[Match]:
        """Every matching signature, best first (score, then danger, then file order)."""
        found: list[tuple[int, int, int, Match]] = []
        for order, signature in enumerate(self.signatures):
            matched = signature.match(obs)
            if matched is None:
                continue
            match = Match(signature, signature.base_score, matched)
            found.append((-match.score, -match.danger, order, match))
        found.sort(key=lambda item: item[:3])
        return [item[3] for item in found]

    def best(self, obs: Observed) -> tuple[Match | None, list[Match]]:
        """The deciding match (after the GREEN veto) and all matches."""
        matches = self.matches(obs)
        if not matches:
            return None, matches
        best = matches[0]
        vetoed = any(m.signature.veto_green for m in matches)
        if vetoed and info(best.signature.error_class).safety is Safety.GREEN:
            safer = [m for m in matches if info(m.signature.error_class).safety is not Safety.GREEN]
            best = safer[0]
        return best, matches
