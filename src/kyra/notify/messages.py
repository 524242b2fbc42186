"""What a notification says, in English and Spanish: one `Notification` per event, built
once and shaped by each channel (email, Slack blocks, Teams card, webhook JSON, PagerDuty).

Every message carries the spec's three answers: what broke (step and error), what Kyra
changed (the config diff of the fix) and how to undo it (`kyra fixes rollback <id>` and
the dashboard link).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from kyra.healing.events import HealEvent
from kyra.healing.explain import explain_fix
from kyra.healing.messages import MESSAGES
from kyra.healing.reasons import localise
from kyra.healing.reasons import render as render_reasons
from kyra.i18n import Catalog, Lang, translate
from kyra.store.healing import FixInfo

LESSON_KINDS = frozenset({"fix_applied", "proposed", "verified", "rolled_back"})
"""Events whose notification explains the fix (learning mode)."""

TITLES: Catalog = {
    "failure_detected": {
        "en": "'{workflow}' failed — Kyra is analysing",
        "es": "'{workflow}' falló — Kyra está analizando",
    },
    "diagnosed": {
        "en": "Error identified: {error_class}",
        "es": "Error identificado: {error_class}",
    },
    "fix_applied": {
        "en": "Fix applied to '{workflow}', checking it works",
        "es": "Reparación aplicada a '{workflow}', comprobando que funciona",
    },
    "rerun_scheduled": {
        "en": "'{workflow}' will run again in {delay}",
        "es": "'{workflow}' se ejecutará de nuevo en {delay}",
    },
    "verified": {
        "en": "'{workflow}' repaired — running normally again",
        "es": "¡'{workflow}' reparado! Ya está funcionando normalmente",
    },
    "fix_failed": {
        "en": "The fix for '{workflow}' did not work",
        "es": "La reparación de '{workflow}' no funcionó",
    },
    "proposed": {
        "en": "A fix for '{workflow}' needs your approval",
        "es": "Una reparación de '{workflow}' necesita tu aprobación",
    },
    "approved": {
        "en": "Fix for '{workflow}' approved",
        "es": "Reparación de '{workflow}' aprobada",
    },
    "rejected": {
        "en": "Fix for '{workflow}' rejected",
        "es": "Reparación de '{workflow}' rechazada",
    },
    "blocked": {
        "en": "Automatic fix for '{workflow}' blocked",
        "es": "Reparación automática de '{workflow}' bloqueada",
    },
    "needs_attention": {
        "en": "'{workflow}' needs your attention",
        "es": "'{workflow}' requiere tu atención",
    },
    "rolled_back": {
        "en": "Fix for '{workflow}' rolled back",
        "es": "Reparación de '{workflow}' revertida",
    },
    "recovered": {
        "en": "'{workflow}' runs normally again — resolved",
        "es": "'{workflow}' vuelve a funcionar con normalidad — resuelto",
    },
    "at_risk": {
        "en": "'{workflow}' is at risk: act before it fails",
        "es": "'{workflow}' está en riesgo: actúa antes de que falle",
    },
    "host_incident": {
        "en": "{count} workflows failing on {host}",
        "es": "{count} workflows fallan en {host}",
    },
    "host_recovered": {
        "en": "{host} answers again — incident resolved",
        "es": "{host} vuelve a responder — incidente resuelto",
    },
    "test": {
        "en": "Test notification for '{workflow}'",
        "es": "Notificación de prueba para '{workflow}'",
    },
}

LABELS: Catalog = {
    "what_broke": {"en": "What broke", "es": "Qué falló"},
    "step": {"en": "Step", "es": "Paso"},
    "error": {"en": "Error", "es": "Error"},
    "diagnosis": {"en": "Diagnosis", "es": "Diagnóstico"},
    "changed": {"en": "What Kyra changed", "es": "Qué cambió Kyra"},
    "proposed_change": {"en": "Proposed change", "es": "Cambio propuesto"},
    "reverted_change": {"en": "Reverted change", "es": "Cambio revertido"},
    "undo": {"en": "How to undo", "es": "Cómo deshacerlo"},
    "undo_text": {
        "en": "Run `{command}` or roll it back from the dashboard.",
        "es": "Ejecuta `{command}` o reviértelo desde el dashboard.",
    },
    "dashboard": {"en": "Open in the dashboard", "es": "Abrir en el dashboard"},
    "workflow": {"en": "Workflow", "es": "Workflow"},
    "incident": {"en": "Incident", "es": "Incidente"},
    "unset": {"en": "(unset)", "es": "(sin valor)"},
    "footer": {
        "en": "Sent by Kyra, the workflow engine that heals itself.",
        "es": "Enviado por Kyra, el motor de workflows que se repara solo.",
    },
}

EVENT_TEXT: Catalog = {
    "at_risk": {"en": "{reason_en}", "es": "{reason_es}"},
    "host_incident": {
        "en": "Since {since}, {count} workflows have failed on {host} ({workflows}). Common "
        "cause: the host {host}, not the workflows. Incident {id}: `kyra incidents show {id}`.",
        "es": "Desde {since}, {count} workflows han fallado en {host} ({workflows}). Causa "
        "común: el host {host}, no los workflows. Incidente {id}: `kyra incidents show {id}`.",
    },
    "recovered": {
        "en": "A run of '{workflow}' succeeded: the problem Kyra asked you about is resolved.",
        "es": "Una ejecución de '{workflow}' funcionó: el problema por el que Kyra te avisó "
        "está resuelto.",
    },
    "host_recovered": {
        "en": "A run succeeded on {host} again: incident {id} ({workflows}) is resolved.",
        "es": "Una ejecución volvió a funcionar en {host}: el incidente {id} ({workflows}) "
        "está resuelto.",
    },
    "test": {
        "en": "This is a test notification from Kyra: the channel works.",
        "es": "Esta es una notificación de prueba de Kyra: el canal funciona.",
    },
}

STATUS: dict[str, str] = {
    "failure_detected": "failing",
    "diagnosed": "fixing",
    "fix_applied": "fixing",
    "rerun_scheduled": "fixing",
    "approved": "fixing",
    "verified": "fixed",
    "fix_failed": "failing",
    "blocked": "attention",
    "proposed": "attention",
    "needs_attention": "attention",
    "rolled_back": "attention",
    "recovered": "fixed",
    "rejected": "info",
    "at_risk": "attention",
    "host_incident": "failing",
    "host_recovered": "fixed",
    "test": "info",
}
"""failing | fixing | fixed | attention | info: drives colours, icons and severities."""

ICONS = {"failing": "🔴", "fixing": "🟡", "fixed": "✅", "attention": "🟠", "info": "ℹ️"}

UNDOABLE = frozenset({"fix_applied", "rerun_scheduled", "verified", "approved", "fix_failed"})
VALUE_LIMIT = 300


@dataclass(frozen=True)
class Change:
    """One changed config leaf, its values already rendered as short JSON."""

    path: str
    before: str
    after: str


@dataclass(frozen=True)
class Facts:
    """What the store knows about the incident beyond the event itself."""

    step: str | None = None
    error: str | None = None
    diagnosis: str | None = None
    fix: FixInfo | None = None
    reasons: tuple[Mapping[str, Any], ...] = ()
    """The diagnosis as language-neutral reasons: each channel reads it in its language."""


@dataclass(frozen=True)
class Notification:
    """One stage of one incident, rendered in one language."""

    kind: str
    lang: Lang
    incident: str
    tenant_id: str
    workflow_id: str
    workflow: str
    at: datetime
    status: str
    title: str
    text: str
    dashboard_url: str
    execution_id: str | None = None
    fix_id: str | None = None
    step: str | None = None
    error: str | None = None
    diagnosis: str | None = None
    error_class: str | None = None
    changes: tuple[Change, ...] = ()
    diff: tuple[dict[str, Any], ...] = ()
    """The raw `{path, before, after}` changes, for machine consumers (webhook)."""
    changes_label: str = ""
    versions: str | None = None
    undo_command: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    lesson: tuple[tuple[str, str], ...] = ()
    """Learning mode: (label, text) for what broke, why this fix, what changed, next time."""

    @property
    def icon(self) -> str:
        return ICONS.get(self.status, "")

    @property
    def subject(self) -> str:
        return f"Kyra: {self.workflow} — {self.title}"

    def label(self, key: str, **values: object) -> str:
        return translate(LABELS, key, self.lang, **values)

    @property
    def undo_text(self) -> str | None:
        if self.undo_command is None:
            return None
        return self.label("undo_text", command=self.undo_command)

    def plain_text(self) -> str:
        """The whole message as plain text (email text part, chat fallbacks)."""
        lines = [self.text, ""]
        if self.step or self.error:
            lines.append(f"{self.label('what_broke')}: {_broke(self)}")
        if self.diagnosis:
            lines.append(f"{self.label('diagnosis')}: {self.diagnosis}")
        if self.changes:
            suffix = f" ({self.versions})" if self.versions else ""
            lines.append(f"{self.changes_label}{suffix}:")
            lines.extend(f"  - {c.path}: {c.before} → {c.after}" for c in self.changes)
        lines.extend(f"{label}: {text}" for label, text in self.lesson)
        if self.undo_text:
            lines.append(f"{self.label('undo')}: {self.undo_text}")
        lines.append(f"{self.label('dashboard')}: {self.dashboard_url}")
        lines.extend(["", f"{self.label('incident')}: {self.incident}", self.label("footer")])
        return "\n".join(lines)


def _broke(note: Notification) -> str:
    where = f"{note.label('step').lower()} '{note.step}'" if note.step else ""
    return " — ".join(part for part in (where, note.error or "") if part)


def dashboard_link(base_url: str, workflow: str) -> str:
    """The workflow's page in the Health Center (`/dashboard/workflows/<name>`)."""
    return f"{base_url.rstrip('/')}/dashboard/workflows/{quote(workflow, safe='')}"


def show_value(value: Any, lang: Lang) -> str:
    if value is None:
        return translate(LABELS, "unset", lang)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def _changes(fix: FixInfo | None, lang: Lang) -> tuple[Change, ...]:
    if fix is None:
        return ()
    return tuple(
        Change(
            str(c.get("path", "")),
            show_value(c.get("before"), lang),
            show_value(c.get("after"), lang),
        )
        for c in fix.diff.get("changes", [])
        if isinstance(c, dict)
    )


def _changes_label(kind: str, fix: FixInfo | None, lang: Lang) -> str:
    if kind == "proposed" or (fix is not None and fix.status == "proposed"):
        return translate(LABELS, "proposed_change", lang)
    if kind == "rolled_back":
        return translate(LABELS, "reverted_change", lang)
    return translate(LABELS, "changed", lang)


def _undo(kind: str, fix: FixInfo | None) -> str | None:
    if fix is None or kind not in UNDOABLE or fix.to_version is None:
        return None
    if fix.status not in ("applied", "approved", "failed"):
        return None
    return f"kyra fixes rollback {fix.id[:8]}"


def _title_values(event: HealEvent, facts: Facts, lang: Lang) -> dict[str, Any]:
    values: dict[str, Any] = {
        "delay": "",
        **localise(event.values, lang),
        "workflow": event.workflow_name,
    }
    error_class = values.get("error_class") or (facts.fix.error_class if facts.fix else None)
    values["error_class"] = str(error_class or "unknown").replace("_", " ")
    return values


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"


def _format(catalog: Catalog, key: str, lang: Lang, values: Mapping[str, Any]) -> str:
    """Like `translate`, but a value the event lacks reads "…" instead of failing: a
    message with a gap is better than no message at all."""
    texts = catalog.get(key)
    if texts is None:
        return key
    template = texts.get(lang) or texts["en"]
    try:
        return template.format_map(_Lenient(values))
    except (ValueError, TypeError, IndexError, AttributeError):
        return template


def _error_class(event: HealEvent, fix: FixInfo | None) -> str | None:
    value = event.values.get("error_class") or (fix.error_class if fix else None)
    return str(value) if value else None


def render(
    event: HealEvent, facts: Facts, *, lang: Lang, incident: str, dashboard_url: str
) -> Notification:
    """The notification for one event in one language."""
    fix = facts.fix
    kind = event.kind
    values = localise(event.values, lang)
    title = _format(TITLES, kind, lang, _title_values(event, facts, lang))
    text = _format(EVENT_TEXT if kind in EVENT_TEXT else MESSAGES, kind, lang, values)
    diagnosis = (render_reasons(facts.reasons, lang) if facts.reasons else "") or facts.diagnosis
    versions = None
    if fix is not None and fix.from_version is not None and fix.to_version is not None:
        versions = f"v{fix.from_version} → v{fix.to_version}"
    return Notification(
        kind=kind,
        lang=lang,
        incident=incident,
        tenant_id=event.tenant_id,
        workflow_id=event.workflow_id,
        workflow=event.workflow_name,
        at=event.at,
        status=STATUS.get(kind, "info"),
        title=title,
        text=text,
        dashboard_url=dashboard_link(dashboard_url, event.workflow_name),
        execution_id=event.execution_id,
        fix_id=event.fix_id,
        step=facts.step,
        error=facts.error,
        diagnosis=None if kind in ("diagnosed", "failure_detected", "at_risk") else diagnosis,
        error_class=_error_class(event, fix),
        changes=() if kind == "diagnosed" else _changes(fix, lang),
        diff=() if kind == "diagnosed" or fix is None else tuple(fix.diff.get("changes", [])),
        changes_label=_changes_label(kind, fix, lang),
        versions=versions,
        undo_command=_undo(kind, fix),
        values=values,
        lesson=tuple(explain_fix(fix, lang).sections()) if fix and kind in LESSON_KINDS else (),
    )
