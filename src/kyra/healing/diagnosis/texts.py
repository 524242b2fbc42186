"""User-facing diagnosis text in English and Spanish (see `kyra.i18n`)."""

from __future__ import annotations

from typing import Any

from kyra.healing.diagnosis.types import Facts, Tier
from kyra.healing.reasons import Reason, render
from kyra.healing.taxonomy import ErrorClass
from kyra.i18n import Catalog, Lang

CLASS_TEXT: Catalog = {
    "rate_limit_exceeded": {
        "en": "The service is rate limiting this workflow (too many requests).",
        "es": "El servicio está limitando la frecuencia de este flujo (demasiadas solicitudes).",
    },
    "timeout_error": {
        "en": "The service took too long to answer and the request timed out.",
        "es": "El servicio tardó demasiado en responder y la solicitud agotó el tiempo de espera.",
    },
    "service_temporarily_unavailable": {
        "en": "The service is temporarily unavailable or failing on its side.",
        "es": "El servicio no está disponible temporalmente o está fallando por su parte.",
    },
    "invalid_date_format": {
        "en": "A date was sent in a format the service does not accept.",
        "es": "Se envió una fecha en un formato que el servicio no acepta.",
    },
    "connection_timeout": {
        "en": "No connection could be made to the service (timeout, refused or reset).",
        "es": (
            "No se pudo establecer conexión con el servicio (tiempo agotado, "
            "rechazada o reiniciada)."
        ),
    },
    "missing_required_field": {
        "en": "A required field is missing from the request.",
        "es": "Falta un campo obligatorio en la solicitud.",
    },
    "invalid_parameter_format": {
        "en": "A request parameter is malformed or not recognised by the service.",
        "es": "Un parámetro de la solicitud está mal formado o el servicio no lo reconoce.",
    },
    "api_version_mismatch": {
        "en": "The request uses an API version the service does not accept.",
        "es": "La solicitud usa una versión de la API que el servicio no acepta.",
    },
    "data_validation_error": {
        "en": "The data sent did not pass the service's validation.",
        "es": "Los datos enviados no superaron la validación del servicio.",
    },
    "invalid_credentials": {
        "en": "The credentials are invalid, expired or revoked; reconnect the account.",
        "es": (
            "Las credenciales no son válidas, caducaron o fueron revocadas; vuelve "
            "a conectar la cuenta."
        ),
    },
    "insufficient_permissions": {
        "en": "The connected account lacks the permission or scope this step needs.",
        "es": "La cuenta conectada no tiene el permiso o alcance que necesita este paso.",
    },
    "account_suspended": {
        "en": "The account at the provider is suspended, disabled or locked.",
        "es": "La cuenta en el proveedor está suspendida, desactivada o bloqueada.",
    },
    "api_deprecated": {
        "en": "The API or endpoint has been deprecated or removed by the provider.",
        "es": "El proveedor ha declarado obsoleta o retirado la API o el endpoint.",
    },
    "billing_issue": {
        "en": "A billing or payment problem (quota, credit, card) blocks the request.",
        "es": "Un problema de facturación o pago (cuota, crédito, tarjeta) bloquea la solicitud.",
    },
    "security_violation": {
        "en": (
            "A security check failed (certificate, policy or blocked content); nothing is changed."
        ),
        "es": (
            "Falló una comprobación de seguridad (certificado, política o "
            "contenido bloqueado); no se cambia nada."
        ),
    },
    "unknown": {
        "en": "Kyra could not identify this error with enough confidence; it needs a person.",
        "es": (
            "Kyra no pudo identificar este error con suficiente confianza; necesita a una persona."
        ),
    },
}

FACT_TEXT: Catalog = {
    "retry_after": {
        "en": "The provider asked to wait {seconds:g} s.",
        "es": "El proveedor pidió esperar {seconds:g} s.",
    },
    "field": {"en": "Field: `{field}`.", "es": "Campo: `{field}`."},
    "expected_format": {
        "en": "Expected format: `{fmt}`.",
        "es": "Formato esperado: `{fmt}`.",
    },
    "api_version": {"en": "API version: {version}.", "es": "Versión de la API: {version}."},
    "not_auto": {
        "en": "Confidence {confidence}% is below the auto-fix threshold ({threshold}%), so "
        "the fix is only suggested.",
        "es": "La confianza ({confidence}%) está por debajo del umbral de auto-reparación "
        "({threshold}%): el arreglo solo se sugiere.",
    },
    "not_auto_llm": {
        "en": "An LLM's diagnosis is advice, never applied on its own: the fix is only suggested.",
        "es": "El diagnóstico de un LLM es un consejo y nunca se aplica solo: el arreglo "
        "solo se sugiere.",
    },
    "not_auto_ambiguous_date": {
        "en": "The date reads two ways ({first} or {second}), so a person picks; the fix "
        "is only suggested.",
        "es": "La fecha admite dos lecturas ({first} o {second}) y elige una persona: el "
        "arreglo solo se sugiere.",
    },
    "not_auto_relative_date": {
        "en": 'The rejected value is a relative date (like "next week"), which Kyra never '
        "turns into a fixed one: a person decides; the fix is only suggested.",
        "es": 'El valor rechazado es una fecha relativa (como "la semana que viene"), que '
        "Kyra nunca convierte en una fija: decide una persona; el arreglo solo se sugiere.",
    },
    "llm_failed": {
        "en": "The LLM answer could not be used: {reason}.",
        "es": "No se pudo usar la respuesta del LLM: {reason}.",
    },
}

TIER_TEXT: Catalog = {
    "rules": {"en": "Recognised by signature {name}.", "es": "Reconocido por la firma {name}."},
    "model": {
        "en": "Classified by the local model (probability {p:.0%}).",
        "es": "Clasificado por el modelo local (probabilidad {p:.0%}).",
    },
    "llm": {"en": "Diagnosed by the LLM.", "es": "Diagnosticado por el LLM."},
}


def explain_reasons(
    error_class: ErrorClass,
    facts: Facts,
    *,
    tier: Tier,
    signature: str | None = None,
    probability: float | None = None,
    not_auto: Reason | None = None,
    extra: Reason | None = None,
) -> list[Reason]:
    """The explanation of a diagnosis as language-neutral reasons (see `reasons`).

    `not_auto` says why an auto-repairable class is only suggested (low confidence, an
    LLM's answer, an ambiguous date): each has its own sentence, so the text never
    blames a threshold the confidence met."""
    parts = [Reason.of(f"class.{error_class.value}")]
    if extra is not None:
        parts.append(extra)
    if facts.retry_after_seconds:
        parts.append(Reason.of("fact.retry_after", seconds=facts.retry_after_seconds))
    if facts.field:
        parts.append(Reason.of("fact.field", field=facts.field))
    if facts.expected_format:
        parts.append(Reason.of("fact.expected_format", fmt=facts.expected_format))
    if facts.api_version:
        parts.append(Reason.of("fact.api_version", version=facts.api_version))
    if not_auto is not None:
        parts.append(not_auto)
    if tier is Tier.RULES and signature:
        parts.append(Reason.of("tier.rules", name=signature))
    elif tier is Tier.MODEL and probability is not None:
        parts.append(Reason.of("tier.model", p=probability))
    elif tier is Tier.LLM:
        parts.append(Reason.of("tier.llm"))
    return parts


def explain(error_class: ErrorClass, facts: Facts, lang: Lang, **kwargs: Any) -> str:
    """The explanation sentence(s) for a diagnosis, in `lang`."""
    return render(explain_reasons(error_class, facts, **kwargs), lang)
