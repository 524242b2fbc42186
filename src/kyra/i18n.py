"""English and Spanish user-facing text.

Each module that speaks to users keeps its own catalog, `{key: {"en": ..., "es": ...}}`,
and calls `translate(CATALOG, key, lang, **values)`. A missing Spanish text falls back
to English rather than failing, and a test checks that every catalog is complete.
"""

from __future__ import annotations

import os
from typing import Literal

Lang = Literal["en", "es"]
LANGS: tuple[Lang, ...] = ("en", "es")
Catalog = dict[str, dict[str, str]]


def normalise_lang(value: str | None) -> Lang:
    """`es`, `es_ES.UTF-8`, `es-MX` → `es`; anything else → `en`."""
    if value and value.strip().lower()[:2] == "es":
        return "es"
    return "en"


def default_lang() -> Lang:
    """The CLI's language: `KYRA_LANG`, else the locale (`LC_ALL`, `LANG`)."""
    for var in ("KYRA_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return normalise_lang(value)
    return "en"


def translate(catalog: Catalog, key: str, lang: Lang, /, **values: object) -> str:
    texts = catalog[key]
    text = texts.get(lang) or texts["en"]
    return text.format(**values) if values else text


def missing_translations(catalog: Catalog) -> list[str]:
    """Keys lacking one of the languages (for the completeness test)."""
    return [key for key, texts in catalog.items() if any(not texts.get(lang) for lang in LANGS)]
