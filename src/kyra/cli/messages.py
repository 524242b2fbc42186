"""CLI text in English and Spanish."""

from __future__ import annotations

from kyra.i18n import Catalog

MESSAGES: Catalog = {
    "error": {"en": "Error", "es": "Error"},
    "init.created_key": {
        "en": "Created the secret key {path} (mode 600). Keep it safe: it decrypts your secrets.",
        "es": "Creada la clave secreta {path} (modo 600). Guárdala bien: descifra tus secretos.",
    },
    "init.kept_key": {
        "en": "Kept the existing secret key {path}.",
        "es": "Se conserva la clave secreta existente {path}.",
    },
    "init.config": {"en": "Wrote {path}.", "es": "Escrito {path}."},
    "init.kept": {"en": "Kept the existing {path}.", "es": "Se conserva {path}."},
    "init.database": {
        "en": "Database ready: {url}",
        "es": "Base de datos lista: {url}",
    },
    "settings.invalid": {
        "en": "invalid setting {name} (environment or kyra.toml): {problem}",
        "es": "ajuste no válido {name} (entorno o kyra.toml): {problem}",
    },
    "extra.missing": {
        "en": "kyra {command} needs the {extra} extra: pip install 'kyra-autofix[{extra}]'",
        "es": "kyra {command} necesita el extra {extra}: pip install 'kyra-autofix[{extra}]'",
    },
    "extra.hint": {"en": "(or run it with {hint})", "es": "(o ejecútalo con {hint})"},
    "db.behind": {
        "en": "the database schema is at revision {current}, this Kyra needs {head}: run "
        "`kyra db upgrade` (or set KYRA_DB_AUTO_MIGRATE=1)",
        "es": "el esquema de la base de datos está en la revisión {current}, este Kyra necesita "
        "{head}: ejecuta `kyra db upgrade` (o define KYRA_DB_AUTO_MIGRATE=1)",
    },
    "db.empty": {
        "en": "the database has no schema yet: run `kyra db upgrade` (or set "
        "KYRA_DB_AUTO_MIGRATE=1)",
        "es": "la base de datos aún no tiene esquema: ejecuta `kyra db upgrade` (o define "
        "KYRA_DB_AUTO_MIGRATE=1)",
    },
    "db.unreachable": {
        "en": "cannot reach the database: {reason}",
        "es": "no se puede conectar con la base de datos: {reason}",
    },
    "no_project": {
        "en": "no kyra.toml in {where} or a parent directory, and KYRA_DATABASE_URL is not "
        "set: run `kyra init` here, or cd into your project",
        "es": "no hay kyra.toml en {where} ni en un directorio superior, y KYRA_DATABASE_URL no "
        "está definido: ejecuta `kyra init` aquí o entra en tu proyecto",
    },
    "db.newer": {
        "en": "the database schema (revision {current}) is newer than this Kyra ({head}): "
        "upgrade Kyra",
        "es": "el esquema de la base de datos (revisión {current}) es más nuevo que este Kyra "
        "({head}): actualiza Kyra",
    },
    "init.tenant": {
        "en": "Tenant '{name}' ready ({tier}).",
        "es": "Tenant '{name}' listo ({tier}).",
    },
    "init.next": {
        "en": "Next: kyra workflows apply {example} && kyra run {name}",
        "es": "Siguiente: kyra workflows apply {example} && kyra run {name}",
    },
    "wf.created": {
        "en": "Workflow '{name}' created (config v{version}).",
        "es": "Workflow '{name}' creado (config v{version}).",
    },
    "wf.updated": {
        "en": "Workflow '{name}' updated (config v{version}).",
        "es": "Workflow '{name}' actualizado (config v{version}).",
    },
    "ask.candidates": {"en": "Candidate values", "es": "Valores candidatos"},
    "ask.value": {"en": "Value", "es": "Valor"},
    "ask.source": {"en": "From", "es": "Origen"},
    "ask.needed": {
        "en": "Only you know the value of '{field}': kyra fixes approve {fix} --value ...",
        "es": "Solo tú conoces el valor de '{field}': kyra fixes approve {fix} --value ...",
    },
    "ask.optional": {
        "en": "Approve as shown: kyra fixes approve {fix} (or another value: --value ...)",
        "es": "Aprobar tal cual: kyra fixes approve {fix} (u otro valor: --value ...)",
    },
    "wf.fix_kept": {
        "en": "  Fix {id} re-applied on top of your definition: {reason}.",
        "es": "  Corrección {id} aplicada de nuevo sobre tu definición: {reason}.",
    },
    "wf.fix_retired": {
        "en": "  Fix {id} retired: {reason}.",
        "es": "  Corrección {id} retirada: {reason}.",
    },
    "wf.valid": {"en": "{source}: valid ({name}).", "es": "{source}: válido ({name})."},
    "wf.stdin_too_big": {
        "en": "standard input holds more than {limit} bytes; a workflow document is smaller",
        "es": "la entrada estándar tiene más de {limit} bytes; un workflow ocupa menos",
    },
    "wf.empty_dir": {
        "en": "no .yaml, .yml or .json files in {path}",
        "es": "no hay ficheros .yaml, .yml ni .json en {path}",
    },
    "wf.state": {
        "en": "Workflow '{name}' is now {state}.",
        "es": "El workflow '{name}' está ahora {state}.",
    },
    "wf.none": {
        "en": "No workflows yet. Add one with: kyra workflows apply FILE",
        "es": "Aún no hay workflows. Añade uno con: kyra workflows apply ARCHIVO",
    },
    "col.name": {"en": "Name", "es": "Nombre"},
    "col.state": {"en": "State", "es": "Estado"},
    "col.config": {"en": "Config", "es": "Config"},
    "col.trigger": {"en": "Trigger", "es": "Disparador"},
    "col.steps": {"en": "Steps", "es": "Pasos"},
    "col.version": {"en": "Version", "es": "Versión"},
    "col.author": {"en": "Author", "es": "Autor"},
    "col.reason": {"en": "Reason", "es": "Motivo"},
    "col.when": {"en": "When", "es": "Cuándo"},
    "col.id": {"en": "ID", "es": "ID"},
    "col.workflow": {"en": "Workflow", "es": "Workflow"},
    "col.status": {"en": "Status", "es": "Estado"},
    "col.started": {"en": "Started", "es": "Inicio"},
    "col.duration": {"en": "Duration", "es": "Duración"},
    "col.failed_step": {"en": "Failed step", "es": "Paso fallido"},
    "col.step": {"en": "Step", "es": "Paso"},
    "col.action": {"en": "Action", "es": "Acción"},
    "col.attempts": {"en": "Attempts", "es": "Intentos"},
    "col.from": {"en": "From", "es": "De"},
    "col.to": {"en": "To", "es": "A"},
    "show.history": {"en": "Config history", "es": "Historial de configuración"},
    "show.states": {"en": "State changes", "es": "Cambios de estado"},
    "show.current": {
        "en": "Current config (v{version})",
        "es": "Configuración actual (v{version})",
    },
    "secret.saved": {
        "en": "Secret {name} saved (encrypted).",
        "es": "Secreto {name} guardado (cifrado).",
    },
    "secret.updated": {
        "en": "Secret {name} replaced (encrypted).",
        "es": "Secreto {name} reemplazado (cifrado).",
    },
    "secret.expires": {
        "en": "It expires on {expires} UTC (read from the value: {form}); workflows using it "
        'turn "at risk" {days:g} day(s) before.',
        "es": "Caduca el {expires} UTC (leído del valor: {form}); los workflows que lo usan "
        'pasan a "en riesgo" {days:g} día(s) antes.',
    },
    "secret.expired": {
        "en": "Careful: it expired on {expires} UTC (read from the value: {form}).",
        "es": "Cuidado: caducó el {expires} UTC (leído del valor: {form}).",
    },
    "secret.prompt": {"en": "Value for {name}", "es": "Valor de {name}"},
    "secret.empty_stdin": {
        "en": "no value on standard input",
        "es": "no hay ningún valor en la entrada estándar",
    },
    "secret.none": {"en": "No secrets.", "es": "No hay secretos."},
    "secret.deleted": {"en": "Secret {name} deleted.", "es": "Secreto {name} borrado."},
    "run.start": {
        "en": "Running '{name}' (config v{version}), execution {id}",
        "es": "Ejecutando '{name}' (config v{version}), ejecución {id}",
    },
    "run.step_ok": {"en": "{step} ok ({ms:.0f} ms)", "es": "{step} ok ({ms:.0f} ms)"},
    "run.step_reused": {
        "en": "{step} reused from the previous run",
        "es": "{step} reutilizado de la ejecución anterior",
    },
    "run.step_failed": {"en": "{step} failed: {error}", "es": "{step} falló: {error}"},
    "run.retry": {
        "en": "{step}: {error}; retrying in {delay:.1f} s",
        "es": "{step}: {error}; reintento en {delay:.1f} s",
    },
    "run.wait": {
        "en": "{step}: waiting {seconds:.1f} s for {target}: {why}",
        "es": "{step}: esperando {seconds:.1f} s a {target}: {why}",
    },
    "wait.pacing": {
        "en": "rate limit learned from its answers",
        "es": "límite de peticiones aprendido de sus respuestas",
    },
    "wait.quota": {
        "en": "its quota is spent until the reset it announced",
        "es": "su cuota está agotada hasta el reinicio que anunció",
    },
    "wait.retry_after": {
        "en": "it asked to wait (Retry-After)",
        "es": "pidió esperar (Retry-After)",
    },
    "wait.circuit": {
        "en": "circuit open after repeated failures; next probe then",
        "es": "circuito abierto tras fallos repetidos; próxima prueba entonces",
    },
    "wait.backoff": {
        "en": "retry backoff after a transient error",
        "es": "espera de reintento tras un error transitorio",
    },
    "run.succeeded": {
        "en": "Execution {id} succeeded in {ms:.0f} ms.",
        "es": "Ejecución {id} completada en {ms:.0f} ms.",
    },
    "run.failed": {
        "en": "Execution {id} failed at step '{step}'.",
        "es": "La ejecución {id} falló en el paso '{step}'.",
    },
    "run.bad_input": {
        "en": "--input expects key=value, got {value!r}",
        "es": "--input espera clave=valor, recibido {value!r}",
    },
    "exec.none": {"en": "No executions.", "es": "No hay ejecuciones."},
    "exec.error": {"en": "Error context", "es": "Contexto del error"},
    "exec.root_cause": {
        "en": "Root cause: step '{step}', {path} ({reason})",
        "es": "Causa raíz: paso '{step}', {path} ({reason})",
    },
    "fix.none": {"en": "No fixes yet.", "es": "Aún no hay reparaciones."},
    "fix.class": {"en": "Error class", "es": "Clase de error"},
    "fix.change": {"en": "Change", "es": "Cambio"},
    "fix.title": {"en": "Fix {fix} of {workflow}", "es": "Reparación {fix} de {workflow}"},
    "fix.reason": {"en": "Reason", "es": "Motivo"},
    "fix.explanation": {"en": "Diagnosis", "es": "Diagnóstico"},
    "fix.versions": {"en": "Config", "es": "Configuración"},
    "fix.outcome": {"en": "Outcome", "es": "Resultado"},
    "fix.decided_by": {"en": "Decided by", "es": "Decidido por"},
    "fix.executions": {"en": "Failed → re-run", "es": "Fallida → reejecución"},
    "fix.path": {"en": "Setting", "es": "Ajuste"},
    "fix.before": {"en": "Before", "es": "Antes"},
    "fix.after": {"en": "After", "es": "Después"},
    "fix.approved": {
        "en": "Fix {fix} approved; workflow is now {state}.",
        "es": "Reparación {fix} aprobada; el workflow está ahora {state}.",
    },
    "fix.retried": {
        "en": "Blocked fix {fix} retried ({action}); workflow is now {state}.",
        "es": "Reparación bloqueada {fix} reintentada ({action}); el workflow está ahora {state}.",
    },
    "run.heal_blocked": {
        "en": "Healing blocked: {reason}. Once the cause is gone: kyra fixes retry {fix}",
        "es": "Reparación bloqueada: {reason}. Cuando la causa desaparezca: kyra fixes retry {fix}",
    },
    "fix.rejected": {
        "en": "Fix {fix} rejected; nothing was changed.",
        "es": "Reparación {fix} rechazada; no se cambió nada.",
    },
    "fix.rolled_back": {
        "en": "Fix {fix} rolled back; config is now v{version}.",
        "es": "Reparación {fix} revertida; la configuración es ahora v{version}.",
    },
    "audit.kind": {"en": "What", "es": "Qué"},
    "audit.actor": {"en": "Who", "es": "Quién"},
    "audit.summary": {"en": "Summary", "es": "Resumen"},
    "kill.on": {
        "en": "Kill switch ON: no automatic change will be made. Fixes stopped in flight: {count}.",
        "es": "Interruptor de emergencia ACTIVADO: no se hará ningún cambio automático. "
        "Reparaciones detenidas en curso: {count}.",
    },
    "kill.off": {
        "en": "Kill switch off: automatic fixes are allowed again.",
        "es": "Interruptor de emergencia desactivado: se permiten de nuevo las reparaciones "
        "automáticas.",
    },
    "kill.on_status": {"en": "Kill switch is ON.", "es": "El interruptor está ACTIVADO."},
    "kill.off_status": {"en": "Kill switch is off.", "es": "El interruptor está desactivado."},
    "exec.retry": {
        "en": "Retrying execution {id} from step {step} with config v{version}.",
        "es": "Reintentando la ejecución {id} desde el paso {step} con config v{version}.",
    },
    "exec.not_failed": {
        "en": "execution {id} is {status}; only failed executions can be retried",
        "es": "la ejecución {id} está {status}; solo se reintentan ejecuciones fallidas",
    },
    "demo.title": {
        "en": "Kyra demo: workflows that heal themselves",
        "es": "Demo de Kyra: workflows que se reparan solos",
    },
    "demo.api": {
        "en": "A local API that misbehaves on purpose is listening on {url}",
        "es": "Una API local que falla a propósito escucha en {url}",
    },
    "demo.summary": {"en": "Summary", "es": "Resumen"},
    "demo.fix": {"en": "Fix", "es": "Reparación"},
    "demo.person": {
        "en": "A person reviews Kyra's proposal for {workflow} and approves it",
        "es": "Una persona revisa la propuesta de Kyra para {workflow} y la aprueba",
    },
    "demo.next": {
        "en": "Try it on your own workflows: kyra init, then kyra workflows apply FILE and "
        "kyra run NAME.",
        "es": "Pruébalo con tus workflows: kyra init, luego kyra workflows apply ARCHIVO y "
        "kyra run NOMBRE.",
    },
}
