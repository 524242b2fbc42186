"""Learning mode: every fix and proposal explained in four parts, in the reader's
language: what broke, why this fix, what changed, how to avoid it next time.

Built at read time from what the fix row already holds (the diagnosis with its
language-neutral reasons, the remedy's key and values, the diff, the versions, the
learned track record), so `kyra fixes show`, the timeline, the dashboard, the API and
each notification channel explain the same fix in their own language, and rows written
before learning mode still read (with their stored text).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kyra.healing.lessons import AVOID, TEXT, WHY
from kyra.healing.lifecycle import CHANGED, FixStatus
from kyra.healing.reasons import diagnosis_text, render
from kyra.i18n import Lang, translate
from kyra.store.healing import FixInfo

ASKED_STATUSES = frozenset({FixStatus.PROPOSED, FixStatus.APPROVED, FixStatus.REJECTED})
MAX_EDITS = 6


@dataclass(frozen=True)
class Explanation:
    """One fix explained for a person, in one language."""

    lang: Lang
    what_broke: str
    why: str
    changed: str
    avoid: str

    def sections(self) -> list[tuple[str, str]]:
        """(label, text) pairs, in reading order."""
        return [
            (translate(TEXT, "label.what_broke", self.lang), self.what_broke),
            (translate(TEXT, "label.why", self.lang), self.why),
            (translate(TEXT, "label.changed", self.lang), self.changed),
            (translate(TEXT, "label.avoid", self.lang), self.avoid),
        ]

    def to_json(self) -> dict[str, str]:
        return {
            "lang": self.lang,
            "what_broke": self.what_broke,
            "why_this_fix": self.why,
            "what_changed": self.changed,
            "how_to_avoid": self.avoid,
        }


def remedy_record(key: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """What a fix row keeps of its remedy (under `diagnosis["remedy"]`), so its summary
    can be read in any language later."""
    return {"key": key, "values": json.loads(json.dumps(dict(values), default=str))}


def remedy_l10n(key: str, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A remedy summary as event `l10n` reasons (rendered per channel language)."""
    return [{"key": f"remedy.{key}", "values": remedy_record(key, values)["values"]}]


def remedy_text(fix: FixInfo, lang: Lang) -> str:
    """The fix's one-line summary in `lang` (the stored English `reason` for old rows)."""
    remedy = fix.diagnosis.get("remedy")
    if isinstance(remedy, Mapping) and remedy.get("key"):
        text = render([{"key": f"remedy.{remedy['key']}", "values": remedy.get("values")}], lang)
        if text:
            return text
    return fix.reason


def learned_text(diagnosis: Mapping[str, Any], lang: Lang) -> str:
    """The track record of this remedy on this host, when one was consulted."""
    learning = diagnosis.get("learning")
    if not isinstance(learning, Mapping):
        return ""
    reasons = learning.get("reasons")
    return render(reasons, lang) if isinstance(reasons, list) else ""


def explain_fix(fix: FixInfo, lang: Lang) -> Explanation:
    """The four-part explanation of `fix` in `lang`."""
    error_class = fix.error_class if fix.error_class in AVOID else "unknown"
    broke = translate(
        TEXT,
        "what_broke",
        lang,
        step=fix.step_name or "?",
        diagnosis=diagnosis_text(fix.diagnosis, lang),
    )
    return Explanation(
        lang=lang,
        what_broke=broke.strip(),
        why=_why(fix, lang),
        changed=_changed(fix, lang),
        avoid=translate(AVOID, error_class, lang),
    )


def _why(fix: FixInfo, lang: Lang) -> str:
    has_remedy = bool(fix.patch.get("ops")) and fix.error_class in WHY
    parts = [translate(WHY, fix.error_class, lang) if has_remedy else ""]
    if not has_remedy:
        parts.append(translate(TEXT, "no_remedy", lang))
    elif fix.status in ASKED_STATUSES:
        parts.append(translate(TEXT, "asks", lang))
    elif fix.status in CHANGED or fix.status == FixStatus.FAILED:  # a failed one may have a version
        parts.append(translate(TEXT, "automatic", lang, confidence=fix.confidence))
    parts.append(learned_text(fix.diagnosis, lang))
    return " ".join(p for p in parts if p)


def _changed(fix: FixInfo, lang: Lang) -> str:
    summary = remedy_text(fix, lang)
    edits = "; ".join(
        translate(
            TEXT,
            "edit",
            lang,
            path=str(c.get("path", "")),
            before=_show(c.get("before")),
            after=_show(c.get("after")),
        )
        for c in fix.diff.get("changes", [])[:MAX_EDITS]
        if isinstance(c, Mapping)
    )
    if fix.to_version is not None and fix.from_version is not None:
        text = translate(
            TEXT, "changed", lang, summary=summary, before=fix.from_version, after=fix.to_version
        )
    elif fix.status == FixStatus.PROPOSED and summary:
        text = translate(TEXT, "would_change", lang, summary=summary)
    else:
        return translate(TEXT, "nothing_changed", lang)
    return f"{text} {edits}".strip() if edits else text


def _show(value: Any) -> str:
    return "-" if value is None else json.dumps(value, ensure_ascii=False)[:80]
