"""What remedies say: the sentence of each plan (audits, notifications, the CLI) and the
reason each one gives when no bounded change can help, in English and Spanish."""

from __future__ import annotations

from kyra.i18n import Catalog

TEXT: Catalog = {
    "rate_limit": {
        "en": "request_delay {before:g} s → {after:g} s, exponential retries; re-run after "
        "the rate-limit window ({window:g} s)",
        "es": "request_delay {before:g} s → {after:g} s, reintentos exponenciales; nueva "
        "ejecución tras la ventana del límite ({window:g} s)",
    },
    "timeout_raise": {
        "en": "timeout {before:g} s → {after:g} s and retries with exponential backoff on "
        "step '{step}' (at most {retries})",
        "es": "timeout {before:g} s → {after:g} s y reintentos con espera exponencial en el "
        "paso '{step}' (como máximo {retries})",
    },
    "timeout_retry": {
        "en": "retries with exponential backoff on step '{step}' (at most {retries})",
        "es": "reintentos con espera exponencial en el paso '{step}' (como máximo {retries})",
    },
    "unavailable": {
        "en": "retry plan {initial:g} s → {max:g} s ×{mult:g}, up to {retries} retries; "
        "re-run in {delay:g} s",
        "es": "plan de reintentos {initial:g} s → {max:g} s ×{mult:g}, hasta {retries} "
        "reintentos; nueva ejecución en {delay:g} s",
    },
    "date": {
        "en": "normalise {step}.{path} to {fmt}",
        "es": "normalizar {step}.{path} al formato {fmt}",
    },
    "missing_field": {
        "en": "the field '{name}' is required: use a default for {step}.{path}",
        "es": "el campo '{name}' es obligatorio: usar un valor por defecto en {step}.{path}",
    },
    "missing_field_ask": {
        "en": "the field '{name}' is required and only a person knows its value{expect}: "
        "approve with --value to set {step}.{path}",
        "es": "el campo '{name}' es obligatorio y solo una persona conoce su valor{expect}: "
        "aprueba con --value para fijar {step}.{path}",
    },
    "replace_value": {
        "en": "use the last value that worked for {step}.{path}",
        "es": "usar el último valor que funcionó en {step}.{path}",
    },
    "api_version": {
        "en": "send {header}: {version} on step '{step}'",
        "es": "enviar {header}: {version} en el paso '{step}'",
    },
    "fail.step_gone": {
        "en": "the failed step '{step}' is no longer in the workflow",
        "es": "el paso fallido '{step}' ya no está en el workflow",
    },
    "fail.chain": {
        "en": "step '{step}' returned the bad value ({path}): fix that step or the service "
        "it calls; the failing step is left unchanged",
        "es": "el paso '{step}' devolvió el valor erróneo ({path}): corrige ese paso o el "
        "servicio al que llama; el paso que falló no se cambia",
    },
    "fail.never": {
        "en": "{error_class} is never changed automatically",
        "es": "{error_class} nunca se cambia automáticamente",
    },
    "fail.delay_max": {
        "en": "request_delay is already at its maximum ({limit:g} s); the rate limit needs a "
        "higher quota or fewer runs",
        "es": "request_delay ya está en su máximo ({limit:g} s); el límite exige más cuota "
        "o menos ejecuciones",
    },
    "fail.timeout_cap": {
        "en": "the step timeout is already at its cap ({cap:g} s)",
        "es": "el timeout del paso ya está en su máximo ({cap:g} s)",
    },
    "fail.retries_in_place": {
        "en": "retries with backoff are already in place; the endpoint seems down",
        "es": "ya hay reintentos con espera; el servicio parece caído",
    },
    "fail.no_date_field": {
        "en": "could not tell which parameter holds the rejected date",
        "es": "no se pudo saber qué parámetro contiene la fecha rechazada",
    },
    "fail.unreadable_date": {
        "en": "the value at {path} is not a date Kyra can read",
        "es": "el valor en {path} no es una fecha que Kyra sepa leer",
    },
    "fail.ambiguous_date": {
        "en": "the value at {path} ({value}) reads as {first} or as {second}: a person must "
        "say which before it is normalised",
        "es": "el valor en {path} ({value}) se lee como {first} o como {second}: una persona "
        "debe decir cuál antes de normalizarlo",
    },
    "fail.no_field": {
        "en": "the error does not say which field is missing",
        "es": "el error no indica qué campo falta",
    },
    "fail.no_param": {
        "en": "the error does not name a parameter of this step to correct",
        "es": "el error no nombra ningún parámetro de este paso que corregir",
    },
    "fail.no_good_value": {
        "en": "no earlier successful value of {path} to propose; fix the input data",
        "es": "no hay un valor anterior correcto de {path} que proponer; corrige los datos",
    },
    "fail.no_version": {
        "en": "the error does not name the API version to use",
        "es": "el error no indica qué versión de la API usar",
    },
}
