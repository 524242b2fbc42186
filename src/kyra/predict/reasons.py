"""Why a workflow is at risk, in English and Spanish: one catalog for every detector.

A risk stores a language-neutral key of `REASONS` and its parameters (names, hosts,
dates, numbers: never a secret's value); readers render it in their own language. A
detector adds its keys here. An unknown key or a missing parameter never fails a read:
the key is shown, or the gap reads "…".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kyra.i18n import Catalog, Lang

REASONS: Catalog = {
    "incident.host": {
        "en": "it calls {host}, which is failing other workflows ({workflows}; incident {id})",
        "es": "llama a {host}, que está haciendo fallar otros workflows ({workflows}; "
        "incidente {id})",
    },
    "credential.jwt": {
        "en": "secret {secret} (a JWT) expires on {expires} UTC, in {days} day(s)",
        "es": "el secreto {secret} (un JWT) caduca el {expires} UTC, en {days} día(s)",
    },
    "credential.jwt.expired": {
        "en": "secret {secret} (a JWT) expired on {expires} UTC",
        "es": "el secreto {secret} (un JWT) caducó el {expires} UTC",
    },
    "credential.oauth": {
        "en": "the OAuth token in secret {secret} expires on {expires} UTC, in {days} day(s)",
        "es": "el token OAuth del secreto {secret} caduca el {expires} UTC, en {days} día(s)",
    },
    "credential.oauth.expired": {
        "en": "the OAuth token in secret {secret} expired on {expires} UTC",
        "es": "el token OAuth del secreto {secret} caducó el {expires} UTC",
    },
    "credential.tls": {
        "en": "the TLS certificate of {host} expires on {expires} UTC, in {days} day(s)",
        "es": "el certificado TLS de {host} caduca el {expires} UTC, en {days} día(s)",
    },
    "credential.tls.expired": {
        "en": "the TLS certificate of {host} expired on {expires} UTC",
        "es": "el certificado TLS de {host} caducó el {expires} UTC",
    },
    "credential.header": {
        "en": "{host} says ({header}) the credential this workflow sends expires on "
        "{expires} UTC, in {days} day(s)",
        "es": "{host} avisa ({header}) de que la credencial que envía este workflow caduca "
        "el {expires} UTC, en {days} día(s)",
    },
    "credential.header.expired": {
        "en": "{host} says ({header}) the credential this workflow sends expired on {expires} UTC",
        "es": "{host} avisa ({header}) de que la credencial que envía este workflow caducó "
        "el {expires} UTC",
    },
    "trend.latency_p95": {
        "en": "step {step}: p95 latency {p95} s is {percent}% of its {timeout} s timeout",
        "es": "paso {step}: la latencia p95 de {p95} s es el {percent}% de su timeout "
        "de {timeout} s",
    },
    "trend.latency_p95.proposed": {
        "en": "step {step}: p95 latency {p95} s is {percent}% of its {timeout} s timeout; "
        "fix {fix} proposes raising the timeout to {after} s",
        "es": "paso {step}: la latencia p95 de {p95} s es el {percent}% de su timeout "
        "de {timeout} s; el arreglo {fix} propone subir el timeout a {after} s",
    },
    "trend.latency_rising": {
        "en": "step {step}: latency rising ({level} s now); at this pace it reaches its "
        "{timeout} s timeout within {runs} runs",
        "es": "paso {step}: la latencia sube ({level} s ahora); a este ritmo alcanza su "
        "timeout de {timeout} s en {runs} ejecuciones",
    },
    "trend.error_rate": {
        "en": "step {step}: error rate rising on {host} ({errors} of the last {runs} runs "
        "failed or needed retries)",
        "es": "paso {step}: la tasa de errores sube en {host} ({errors} de las últimas "
        "{runs} ejecuciones fallaron o necesitaron reintentos)",
    },
}


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"


def render_reason(key: str, params: Mapping[str, Any], lang: Lang) -> str:
    """The sentence for a stored reason, in `lang`."""
    texts = REASONS.get(key)
    if texts is None:
        return f"{key} {json.dumps(dict(params), ensure_ascii=False)}" if params else key
    template = texts.get(lang) or texts["en"]
    try:
        return template.format_map(_Lenient(params))
    except (ValueError, TypeError, IndexError, AttributeError):
        return template
