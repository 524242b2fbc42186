"""Language-neutral sentences: a key plus parameters, rendered in the reader's language.

A diagnosis used to store its explanation as text in the language of the tenant at the
time it was made, so a Spanish CLI showed English sentences (and the other way round).
Now each sentence is stored as a `Reason` (`"class.rate_limit_exceeded"`,
`"fact.retry_after" {seconds: 30}`) and every output (CLI, dashboard, API,
notifications) renders the list in its own language with `render(reasons, lang)`. The
stored `explanation` text is kept for old readers and old rows.

A key is `namespace.key`; each namespace names one catalog, imported on first use so
this module imports nothing above `kyra.i18n` (catalogs live next to the code that
writes their sentences).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

from kyra.i18n import Catalog, Lang

NAMESPACES: dict[str, tuple[str, str]] = {
    "class": ("kyra.healing.diagnosis.texts", "CLASS_TEXT"),
    "fact": ("kyra.healing.diagnosis.texts", "FACT_TEXT"),
    "tier": ("kyra.healing.diagnosis.texts", "TIER_TEXT"),
    "chain": ("kyra.healing.diagnosis.chains", "TEXT"),
    "rule": ("kyra.healing.rules", "TEXT"),
    "learn": ("kyra.healing.learning", "TEXT"),
    "remedy": ("kyra.healing.remedies", "TEXT"),
}
"""Namespace → (module, catalog attribute)."""

Value = str | int | float | bool | None


KEY = re.compile(r"^[a-z_]{1,20}\.[a-z_.]{1,60}$")


@dataclass(frozen=True)
class Reason:
    """One sentence, as a catalog key and the values that fill it in (a plain dataclass:
    events and notifications import this module, and must stay cheap to import)."""

    key: str
    values: dict[str, Value] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not KEY.match(self.key):
            raise ValueError(f"reason key must look like 'namespace.key', not {self.key!r}")

    @classmethod
    def of(cls, key: str, **values: Any) -> Reason:
        return cls(key, values)


@cache
def _catalog(namespace: str) -> Catalog | None:
    where = NAMESPACES.get(namespace)
    if where is None:
        return None
    module = importlib.import_module(where[0])
    catalog: Catalog = getattr(module, where[1])
    return catalog


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"


def sentence(reason: Reason | Mapping[str, Any], lang: Lang) -> str | None:
    """One reason in `lang`; None for a key no catalog knows (a newer writer's)."""
    key = reason.key if isinstance(reason, Reason) else str(reason.get("key") or "")
    values = reason.values if isinstance(reason, Reason) else (reason.get("values") or {})
    namespace, _, name = key.partition(".")
    catalog = _catalog(namespace)
    if catalog is None or name not in catalog:
        return None
    texts = catalog[name]
    template = texts.get(lang) or texts["en"]
    try:
        return template.format_map(_Lenient(values))
    except (ValueError, TypeError, IndexError, AttributeError):
        return template


def render(reasons: Iterable[Reason | Mapping[str, Any]], lang: Lang) -> str:
    """The sentences of `reasons`, in `lang`, joined by spaces."""
    parts = (sentence(reason, lang) for reason in reasons)
    return " ".join(part for part in parts if part)


def diagnosis_text(diagnosis: Mapping[str, Any] | None, lang: Lang) -> str:
    """A stored diagnosis (`Diagnosis.to_output()`) explained in `lang`: its reasons when
    it has them, else (rows written before reasons existed) its stored text."""
    if not diagnosis:
        return ""
    reasons = diagnosis.get("reasons")
    if isinstance(reasons, list) and reasons:
        text = render((r for r in reasons if isinstance(r, Mapping)), lang)
        if text:
            return text
    return str(diagnosis.get("explanation") or "")


def localise(values: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    """Event values with their localisable entries rendered in `lang`.

    An event (JSON, re-delivered later) carries `values["l10n"]`: value name → list of
    reasons; each becomes that value's text in `lang`, so one event reads in every
    channel's own language."""
    out = {k: v for k, v in values.items() if k != "l10n"}
    l10n = values.get("l10n")
    if isinstance(l10n, Mapping):
        for name, reasons in l10n.items():
            if isinstance(reasons, list):
                text = render((r for r in reasons if isinstance(r, Mapping)), lang)
                if text:
                    out[str(name)] = text
    return out


def dumps(reasons: Iterable[Reason]) -> list[dict[str, Any]]:
    """Reasons as JSON values (for stored rows and events)."""
    return [asdict(reason) for reason in reasons]
