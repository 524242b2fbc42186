"""The Health Center's text in English and Spanish, and the language a request gets:
`?lang=` (remembered in a cookie), then the cookie, then the tenant's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kyra.healing.explain import explain_fix, remedy_text
from kyra.healing.reasons import diagnosis_text
from kyra.i18n import Catalog, Lang, normalise_lang, translate
from kyra.store.healing import FixInfo

LANG_COOKIE = "kyra_lang"

TEXT: Catalog = {
    "learning": {"en": "Learning", "es": "Aprendizaje"},
    "learning.rejection": {
        "en": "Proposals rejected",
        "es": "Propuestas rechazadas",
    },
    "learning.target": {"en": "target: under 10%", "es": "objetivo: menos del 10%"},
    "learning.settled": {"en": "{n} re-runs", "es": "{n} reejecuciones"},
    "learning.none": {
        "en": "No fix has been verified yet.",
        "es": "Aún no se ha verificado ninguna reparación.",
    },
    "title": {"en": "Workflow Health Center", "es": "Centro de Salud de Workflows"},
    "login.title": {"en": "Sign in", "es": "Iniciar sesión"},
    "login.key": {"en": "API key", "es": "Clave API"},
    "login.help": {
        "en": "Create one with: kyra apikeys create --tenant NAME",
        "es": "Crea una con: kyra apikeys create --tenant NOMBRE",
    },
    "login.submit": {"en": "Sign in", "es": "Entrar"},
    "login.bad": {"en": "That key is not valid.", "es": "Esa clave no es válida."},
    "logout": {"en": "Sign out", "es": "Salir"},
    "month": {"en": "This month", "es": "Este mes"},
    "card.fixes": {"en": "Auto-fixes applied", "es": "Auto-fixes aplicados"},
    "card.mttr": {"en": "Mean time to repair", "es": "Tiempo promedio de reparación"},
    "card.success": {"en": "Fix success rate", "es": "Tasa de éxito"},
    "card.cost": {"en": "AI diagnostic costs", "es": "Costos de diagnóstico IA"},
    "card.prevented": {"en": "Prevented downtime value", "es": "Valor de caída evitada"},
    "card.roi": {"en": "ROI", "es": "ROI"},
    "card.roi_free": {"en": "∞ (no AI cost)", "es": "∞ (sin costo de IA)"},
    "card.none": {"en": "—", "es": "—"},
    "formulas.title": {"en": "How these are computed", "es": "Cómo se calculan"},
    "formulas": {
        "en": "MTTR: mean of (verified re-run − failed run) over verified fixes. "
        "Success rate: fixes kept after verification ÷ fixes with a final outcome. "
        "Prevented value: Σ max(0, {hours} h − repair time) × ${value}/h (tenant settings). "
        "ROI: (prevented value − AI cost) ÷ AI cost; ∞ when the diagnoses cost nothing "
        "(the API reports it against a $0.01 floor).",
        "es": "MTTR: media de (re-ejecución verificada − ejecución fallida) en los fixes "
        "verificados. Tasa de éxito: fixes mantenidos tras verificar ÷ fixes con resultado final. "
        "Valor evitado: Σ max(0, {hours} h − tiempo de reparación) × ${value}/h (ajustes del "
        "tenant). ROI: (valor evitado − costo IA) ÷ costo IA; ∞ cuando los diagnósticos no "
        "cuestan nada (la API lo calcula con un mínimo de $0.01).",
    },
    "workflows": {"en": "Workflows", "es": "Workflows"},
    "workflows.none": {
        "en": "No workflows yet. Create one with POST /api/v1/workflows.",
        "es": "Aún no hay workflows. Crea uno con POST /api/v1/workflows.",
    },
    "hosts": {"en": "Incidents across workflows", "es": "Incidentes entre workflows"},
    "hosts.help": {
        "en": "One host failing several workflows at once: fix the host, not the workflows.",
        "es": "Un host que hace fallar varios workflows a la vez: arregla el host, no los "
        "workflows.",
    },
    "hosts.cause": {
        "en": "Common cause: {host} ({count} workflows: {workflows})",
        "es": "Causa común: {host} ({count} workflows: {workflows})",
    },
    "hosts.open": {"en": "open", "es": "abierto"},
    "hosts.resolved": {"en": "resolved", "es": "resuelto"},
    "hosts.resolved_ago": {"en": "resolved {ago}", "es": "resuelto {ago}"},
    "risks": {"en": "At risk", "es": "En riesgo"},
    "risks.help": {
        "en": "Nothing failed yet: these workflows will likely fail soon unless someone acts.",
        "es": "Aún no falló nada: estos workflows probablemente fallarán pronto si nadie actúa.",
    },
    "risks.since": {"en": "since {ago}", "es": "desde {ago}"},
    "kind.credential_expiry": {"en": "Credential expiry", "es": "Credencial por caducar"},
    "kind.latency": {"en": "Latency", "es": "Latencia"},
    "kind.error_rate": {"en": "Error rate", "es": "Tasa de errores"},
    "kind.host_incident": {"en": "Failing host", "es": "Host con fallos"},
    "pending": {"en": "Pending approvals", "es": "Aprobaciones pendientes"},
    "pending.none": {"en": "Nothing waits for you.", "es": "Nada espera tu aprobación."},
    "pending.value": {"en": "Value", "es": "Valor"},
    "approve": {"en": "Approve", "es": "Aprobar"},
    "reject": {"en": "Reject", "es": "Rechazar"},
    "rollback": {"en": "Roll back", "es": "Revertir"},
    "recent": {"en": "Recent fixes", "es": "Reparaciones recientes"},
    "recent.none": {"en": "No fixes yet.", "es": "Aún no hay reparaciones."},
    "chart": {"en": "Failures and recoveries", "es": "Fallos y recuperaciones"},
    "chart.failures": {"en": "Failures", "es": "Fallos"},
    "chart.recoveries": {"en": "Recoveries", "es": "Recuperaciones"},
    "chart.days": {"en": "last {days} days", "es": "últimos {days} días"},
    "killswitch.on": {
        "en": "Kill switch ON: Kyra makes no automatic changes.",
        "es": "Kill switch ACTIVO: Kyra no hace cambios automáticos.",
    },
    "timeline": {"en": "Timeline", "es": "Línea de tiempo"},
    "timeline.none": {"en": "No incidents. All quiet.", "es": "Sin incidentes. Todo en calma."},
    "back": {"en": "← Health Center", "es": "← Centro de Salud"},
    "stage.failure": {"en": "Failure", "es": "Fallo"},
    "stage.diagnosis": {"en": "Diagnosis", "es": "Diagnóstico"},
    "stage.fix": {"en": "Fix", "es": "Reparación"},
    "stage.recovery": {"en": "Recovery", "es": "Recuperación"},
    "config": {"en": "Config v{version}", "es": "Config v{version}"},
    "diff.path": {"en": "Setting", "es": "Ajuste"},
    "diff.before": {"en": "Before", "es": "Antes"},
    "diff.after": {"en": "After", "es": "Después"},
    "recovered": {
        "en": "Re-run succeeded: repaired {time} after the failure.",
        "es": "La re-ejecución funcionó: reparado {time} después del fallo.",
    },
    "in_step": {"en": "in step {step}", "es": "en el paso {step}"},
    "done.approved": {"en": "Fix approved.", "es": "Reparación aprobada."},
    "done.rejected": {"en": "Fix rejected.", "es": "Reparación rechazada."},
    "done.rolled_back": {"en": "Fix rolled back.", "es": "Reparación revertida."},
    "error": {"en": "Could not do that: {message}", "es": "No se pudo: {message}"},
    "live": {"en": "Live", "es": "En vivo"},
    "ago.now": {"en": "just now", "es": "justo ahora"},
    "ago.min": {"en": "{n} min ago", "es": "hace {n} min"},
    "ago.hour": {"en": "{n} h ago", "es": "hace {n} h"},
    "ago.day": {"en": "{n} d ago", "es": "hace {n} d"},
    # workflow states
    "state.active": {"en": "active", "es": "activo"},
    "state.inactive": {"en": "inactive", "es": "inactivo"},
    "state.failed": {"en": "failed", "es": "fallido"},
    "state.fixing": {"en": "fixing", "es": "reparando"},
    "state.fixed": {"en": "fixed", "es": "reparado"},
    "state.needs_attention": {"en": "needs attention", "es": "requiere atención"},
    # what happened to a fix, as the spec's recent list says it
    "outcome.auto": {"en": "Fixed automatically", "es": "Reparado automáticamente"},
    "outcome.approved": {"en": "Fixed after approval", "es": "Reparado tras aprobación"},
    "outcome.fixing": {"en": "Fixing…", "es": "Reparando…"},
    "outcome.failed": {"en": "Fix failed", "es": "La reparación falló"},
    "outcome.rolled_back": {"en": "Rolled back", "es": "Revertido"},
    "outcome.attention": {"en": "Needs attention", "es": "Requiere atención"},
    "outcome.rejected": {"en": "Rejected", "es": "Rechazado"},
    "outcome.proposed": {"en": "Waiting for approval", "es": "Esperando aprobación"},
    # error classes
    "class.rate_limit_exceeded": {"en": "Rate limit", "es": "Límite de tasa"},
    "class.timeout_error": {"en": "Timeout", "es": "Tiempo de espera agotado"},
    "class.service_temporarily_unavailable": {
        "en": "Service unavailable",
        "es": "Servicio no disponible",
    },
    "class.invalid_date_format": {"en": "Date format", "es": "Formato de fecha"},
    "class.connection_timeout": {"en": "Connection timeout", "es": "Conexión agotada"},
    "class.missing_required_field": {"en": "Missing field", "es": "Campo faltante"},
    "class.invalid_parameter_format": {"en": "Invalid parameter", "es": "Parámetro inválido"},
    "class.api_version_mismatch": {"en": "API version", "es": "Versión de API"},
    "class.data_validation_error": {"en": "Data validation", "es": "Validación de datos"},
    "class.invalid_credentials": {"en": "Invalid credentials", "es": "Credenciales inválidas"},
    "class.insufficient_permissions": {"en": "Permission", "es": "Permisos"},
    "class.account_suspended": {"en": "Account suspended", "es": "Cuenta suspendida"},
    "class.api_deprecated": {"en": "API deprecated", "es": "API obsoleta"},
    "class.billing_issue": {"en": "Billing", "es": "Facturación"},
    "class.security_violation": {"en": "Security", "es": "Seguridad"},
    "class.unknown": {"en": "Unknown error", "es": "Error desconocido"},
}


def pick_lang(query: str | None, cookie: str | None, tenant_lang: str) -> Lang:
    for value in (query, cookie):
        if value in ("en", "es"):
            return normalise_lang(value)
    return normalise_lang(tenant_lang)


class Texts:
    """`t("key", n=3)` in templates, bound to one language."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def __call__(self, key: str, **values: object) -> str:
        if key not in TEXT:
            return key
        return translate(TEXT, key, self.lang, **values)

    def diagnosis(self, diagnosis: Mapping[str, Any] | None) -> str:
        """A stored diagnosis explained in this page's language."""
        return diagnosis_text(diagnosis, self.lang)

    def reason(self, fix: FixInfo) -> str:
        """A fix's summary in this page's language."""
        return remedy_text(fix, self.lang)

    def lesson(self, fix: FixInfo) -> list[tuple[str, str]]:
        """Learning mode: what broke, why this fix, what changed, next time."""
        return explain_fix(fix, self.lang).sections()

    def error_class(self, name: str) -> str:
        key = f"class.{name}"
        return self(key) if key in TEXT else name.replace("_", " ")

    def kind(self, name: str) -> str:
        key = f"kind.{name}"
        return self(key) if key in TEXT else name.replace("_", " ")

    def ago(self, seconds: float) -> str:
        if seconds < 60:
            return self("ago.now")
        if seconds < 3600:
            return self("ago.min", n=int(seconds // 60))
        if seconds < 86400:
            return self("ago.hour", n=int(seconds // 3600))
        return self("ago.day", n=int(seconds // 86400))
