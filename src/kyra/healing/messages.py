"""Healing timeline and notification text, in English and Spanish."""

from __future__ import annotations

from kyra.i18n import Catalog

MESSAGES: Catalog = {
    "failure_detected": {
        "en": "Workflow '{workflow}' failed at step '{step}' ({error}). Kyra is analysing…",
        "es": "El workflow '{workflow}' falló en el paso '{step}' ({error}). Kyra está analizando…",
    },
    "diagnosed": {
        "en": "Diagnosis: {error_class} ({safety}, {confidence}% confidence, {tier}). "
        "{explanation}",
        "es": "Diagnóstico: {error_class} ({safety}, confianza {confidence}%, {tier}). "
        "{explanation}",
    },
    "fix_applied": {
        "en": "Fix applied automatically (config v{from_version} → v{to_version}): {summary}",
        "es": "Reparación aplicada automáticamente (config v{from_version} → v{to_version}): "
        "{summary}",
    },
    "rerun_scheduled": {
        "en": "Re-run from step '{step}' in {delay}.",
        "es": "Nueva ejecución desde el paso '{step}' en {delay}.",
    },
    "verified": {
        "en": "Workflow '{workflow}' repaired: the re-run succeeded. Undo with: "
        "kyra fixes rollback {fix}",
        "es": "Workflow '{workflow}' reparado: la nueva ejecución funcionó. Para deshacer: "
        "kyra fixes rollback {fix}",
    },
    "fix_failed": {
        "en": "The fix did not help: {error}",
        "es": "La reparación no resolvió el problema: {error}",
    },
    "proposed": {
        "en": "Fix proposed, waiting for approval: {summary}. Approve: kyra fixes approve {fix} "
        "[--value VALUE] · reject: kyra fixes reject {fix}",
        "es": "Reparación propuesta, pendiente de aprobación: {summary}. Aprobar: "
        "kyra fixes approve {fix} [--value VALOR] · rechazar: kyra fixes reject {fix}",
    },
    "approved": {
        "en": "Fix {fix} approved by {actor} (config v{from_version} → v{to_version}).",
        "es": "Reparación {fix} aprobada por {actor} (config v{from_version} → v{to_version}).",
    },
    "rejected": {
        "en": "Fix {fix} rejected by {actor}; nothing was changed.",
        "es": "Reparación {fix} rechazada por {actor}; no se cambió nada.",
    },
    "blocked": {
        "en": "Automatic fix blocked ({limit}): {reason}",
        "es": "Reparación automática bloqueada ({limit}): {reason}",
    },
    "needs_attention": {
        "en": "Workflow '{workflow}' needs attention: {reason}",
        "es": "El workflow '{workflow}' requiere atención: {reason}",
    },
    "manual_steps": {"en": "What to do: {steps}", "es": "Qué hacer: {steps}"},
    "rolled_back": {
        "en": "Fix {fix} rolled back (config v{to_version} → v{new_version}): {reason}",
        "es": "Reparación {fix} revertida (config v{to_version} → v{new_version}): {reason}",
    },
    "worse_after_fix": {
        "en": "failure rate after the fix {after:.0%} is worse than before {before:.0%}",
        "es": "la tasa de fallos tras la reparación ({after:.0%}) es peor que antes ({before:.0%})",
    },
    "no_remedy": {
        "en": "no safe automatic change can help: {reason}",
        "es": "ningún cambio automático seguro puede ayudar: {reason}",
    },
    "waiting_approval": {
        "en": "fix {fix} is waiting for approval",
        "es": "la reparación {fix} espera aprobación",
    },
    "kill_switch_cancelled": {
        "en": "the kill switch stopped fix {fix} before its re-run",
        "es": "el interruptor de emergencia detuvo la reparación {fix} antes de reejecutar",
    },
    "retry_not_blocked": {
        "en": "fix {fix} is {status}, not blocked; only a blocked fix can be retried",
        "es": "la reparación {fix} está {status}, no bloqueada; solo se reintenta una "
        "reparación bloqueada",
    },
    "retry_wrong_state": {
        "en": "fix {fix} cannot be retried: its workflow is {state}, not needs_attention",
        "es": "no se puede reintentar la reparación {fix}: su workflow está {state}, "
        "no needs_attention",
    },
    "retry_still_blocked": {
        "en": "fix {fix} is still blocked ({limit}): {reason}",
        "es": "la reparación {fix} sigue bloqueada ({limit}): {reason}",
    },
    "retried": {
        "en": "blocked fix {fix} retried by {actor}",
        "es": "reparación bloqueada {fix} reintentada por {actor}",
    },
    "gate_kill_switch": {
        "en": "the kill switch is on{why} (lift it: kyra killswitch off)",
        "es": "el interruptor de emergencia está activado{why} (para quitarlo: "
        "kyra killswitch off)",
    },
    "skip_attention": {
        "en": "healing skipped: the workflow already needs attention for this error "
        "({error_class}): {reason}",
        "es": "reparación omitida: el workflow ya requiere atención por este error "
        "({error_class}): {reason}",
    },
    "skip_disabled": {
        "en": "healing skipped: healing is disabled in the settings",
        "es": "reparación omitida: la reparación está desactivada en la configuración",
    },
    "skip_state": {
        "en": "healing skipped: the workflow is {state}",
        "es": "reparación omitida: el workflow está {state}",
    },
    "new_error": {
        "en": "a new error ({error_class}) while the workflow already needs attention "
        "(for {known}): {explanation}",
        "es": "un error nuevo ({error_class}) mientras el workflow ya requiere atención "
        "(por {known}): {explanation}",
    },
}

MANUAL_STEP_TEXT: Catalog = {
    "reconnect_credentials": {
        "en": "reconnect the account or replace the API key (kyra secrets set NAME)",
        "es": "vuelve a conectar la cuenta o reemplaza la clave de API (kyra secrets set NOMBRE)",
    },
    "grant_permissions": {
        "en": "grant the missing permission or scope to the connected account",
        "es": "concede el permiso o alcance que falta a la cuenta conectada",
    },
    "contact_provider": {
        "en": "contact the provider's support about the account",
        "es": "contacta con el soporte del proveedor sobre la cuenta",
    },
    "update_billing": {
        "en": "update the billing details or plan with the provider",
        "es": "actualiza los datos de facturación o el plan con el proveedor",
    },
    "migrate_api": {
        "en": "move the step to the provider's current API",
        "es": "migra el paso a la API actual del proveedor",
    },
    "review_security": {
        "en": "review the security error (certificate, policy) before anything else",
        "es": "revisa el error de seguridad (certificado, política) antes de nada",
    },
    "review_input_data": {
        "en": "check the data the workflow sends",
        "es": "revisa los datos que envía el workflow",
    },
    "check_endpoint": {
        "en": "check that the endpoint URL is right and reachable",
        "es": "comprueba que la URL del servicio es correcta y accesible",
    },
    "notify_user": {
        "en": "look at the error context (kyra executions show ID)",
        "es": "consulta el contexto del error (kyra executions show ID)",
    },
}
