"""Learning mode's text, per error class, in English and Spanish: why the remedy Kyra
chose fits this class, and how to keep the error from coming back. Read by
`kyra.healing.explain`."""

from __future__ import annotations

from kyra.i18n import Catalog

WHY: Catalog = {
    "rate_limit_exceeded": {
        "en": "The service refused requests because too many came too fast; spacing them "
        "out and waiting for the limit window lets the same requests through.",
        "es": "El servicio rechazó solicitudes porque llegaban demasiadas y muy seguidas; "
        "espaciarlas y esperar la ventana del límite deja pasar las mismas solicitudes.",
    },
    "timeout_error": {
        "en": "The service answers, but slower than the step allowed; a longer timeout and "
        "a few spaced retries let a slow answer arrive.",
        "es": "El servicio responde, pero más despacio de lo que el paso permitía; un "
        "timeout mayor y algunos reintentos espaciados dejan llegar una respuesta lenta.",
    },
    "service_temporarily_unavailable": {
        "en": "The failure is on the service's side and temporary; retrying with growing "
        "waits gives it time to recover without changing what is sent.",
        "es": "El fallo es del servicio y temporal; reintentar con esperas crecientes le da "
        "tiempo a recuperarse sin cambiar lo que se envía.",
    },
    "connection_timeout": {
        "en": "No connection could be made; retrying with growing waits covers a short "
        "network or service outage.",
        "es": "No se pudo conectar; reintentar con esperas crecientes cubre una caída breve "
        "de la red o del servicio.",
    },
    "invalid_date_format": {
        "en": "The service expects dates in one format; converting the date before it is "
        "sent keeps the data and changes only its shape.",
        "es": "El servicio espera las fechas en un formato; convertir la fecha antes de "
        "enviarla conserva el dato y solo cambia su forma.",
    },
    "missing_required_field": {
        "en": "The service needs a value the request did not carry; only you know the right "
        "one, so Kyra asks before sending it.",
        "es": "El servicio necesita un valor que la solicitud no llevaba; solo tú sabes el "
        "correcto, así que Kyra pregunta antes de enviarlo.",
    },
    "invalid_parameter_format": {
        "en": "A parameter was not accepted; the last value that worked is the safest "
        "candidate, and a person confirms it.",
        "es": "No se aceptó un parámetro; el último valor que funcionó es el candidato más "
        "seguro, y una persona lo confirma.",
    },
    "api_version_mismatch": {
        "en": "The service named the API version it accepts; sending that version header "
        "changes nothing else in the request.",
        "es": "El servicio indicó la versión de API que acepta; enviar esa cabecera de "
        "versión no cambia nada más de la solicitud.",
    },
    "data_validation_error": {
        "en": "The data itself failed the service's checks; correcting it needs a person.",
        "es": "Los propios datos no superaron las comprobaciones del servicio; corregirlos "
        "requiere a una persona.",
    },
}
"""Why this kind of remedy for this class (classes with no remedy have no entry)."""

AVOID: Catalog = {
    "rate_limit_exceeded": {
        "en": "Spread the workflow's runs or batch its requests, and check the provider's "
        "quota for your plan.",
        "es": "Reparte las ejecuciones del workflow o agrupa sus solicitudes, y revisa la "
        "cuota de tu plan con el proveedor.",
    },
    "timeout_error": {
        "en": "Ask for less per call (smaller pages, filters) and set the step's timeout "
        "above the service's slowest normal answer.",
        "es": "Pide menos por llamada (páginas más pequeñas, filtros) y pon el timeout del "
        "paso por encima de la respuesta normal más lenta del servicio.",
    },
    "service_temporarily_unavailable": {
        "en": "Nothing on your side caused it; give critical steps a retry policy and "
        "follow the provider's status page.",
        "es": "No lo causó nada de tu lado; da a los pasos críticos una política de "
        "reintentos y sigue la página de estado del proveedor.",
    },
    "connection_timeout": {
        "en": "Check the URL and that the service is reachable from Kyra's network; give "
        "the step a retry policy.",
        "es": "Comprueba la URL y que el servicio sea accesible desde la red de Kyra; da al "
        "paso una política de reintentos.",
    },
    "invalid_date_format": {
        "en": "Produce dates in the format the service documents (ISO 8601 when it "
        "accepts it) in the step or input that builds them.",
        "es": "Genera las fechas en el formato que documenta el servicio (ISO 8601 si lo "
        "acepta) en el paso o la entrada que las construye.",
    },
    "missing_required_field": {
        "en": "Make sure the input or the earlier step that feeds this field always "
        "provides it, or give the step a default.",
        "es": "Asegúrate de que la entrada o el paso anterior que alimenta este campo "
        "siempre lo aporte, o da al paso un valor por defecto.",
    },
    "invalid_parameter_format": {
        "en": "Check the parameter against the provider's API reference and validate it "
        "where it is produced.",
        "es": "Comprueba el parámetro con la referencia de la API del proveedor y valídalo "
        "donde se produce.",
    },
    "api_version_mismatch": {
        "en": "Pin the API version in the workflow's headers and follow the provider's changelog.",
        "es": "Fija la versión de la API en las cabeceras del workflow y sigue el registro "
        "de cambios del proveedor.",
    },
    "data_validation_error": {
        "en": "Validate records before they are sent, where they are produced.",
        "es": "Valida los registros antes de enviarlos, donde se producen.",
    },
    "invalid_credentials": {
        "en": "Store credentials as secrets with a refresh token where the provider offers "
        "one; Kyra warns before a known expiry.",
        "es": "Guarda las credenciales como secretos con token de renovación si el "
        "proveedor lo ofrece; Kyra avisa antes de una caducidad conocida.",
    },
    "insufficient_permissions": {
        "en": "Grant the connected account the scope this step needs, and only that.",
        "es": "Concede a la cuenta conectada el alcance que necesita este paso, y solo ese.",
    },
    "account_suspended": {
        "en": "Resolve the account's status with the provider; Kyra cannot change it.",
        "es": "Resuelve el estado de la cuenta con el proveedor; Kyra no puede cambiarlo.",
    },
    "api_deprecated": {
        "en": "Move the step to the provider's replacement endpoint before the old one is removed.",
        "es": "Pasa el paso al endpoint que lo sustituye antes de que el antiguo se retire.",
    },
    "billing_issue": {
        "en": "Keep the provider account's payment method and credit up to date.",
        "es": "Mantén al día el método de pago y el crédito de la cuenta del proveedor.",
    },
    "security_violation": {
        "en": "Review the certificate, policy or content the service refused; Kyra never "
        "relaxes a security check.",
        "es": "Revisa el certificado, la política o el contenido que el servicio rechazó; "
        "Kyra nunca relaja una comprobación de seguridad.",
    },
    "unknown": {
        "en": "Read the error in the execution's details; a custom rule can teach Kyra "
        "this error next time.",
        "es": "Lee el error en los detalles de la ejecución; una regla personalizada puede "
        "enseñar a Kyra este error la próxima vez.",
    },
}
"""How to keep each class from coming back."""

TEXT: Catalog = {
    "what_broke": {
        "en": "Step '{step}' failed. {diagnosis}",
        "es": "El paso '{step}' falló. {diagnosis}",
    },
    "no_remedy": {
        "en": "No bounded change can fix this error, so nothing was changed.",
        "es": "Ningún cambio acotado puede arreglar este error, así que no se cambió nada.",
    },
    "automatic": {
        "en": "Kyra applied it on its own: the error is GREEN (safe to retry) and the "
        "diagnosis was {confidence}% sure.",
        "es": "Kyra lo aplicó por su cuenta: el error es VERDE (seguro de reintentar) y el "
        "diagnóstico tenía una confianza del {confidence}%.",
    },
    "asks": {
        "en": "Kyra only proposes it: a person approves or rejects it.",
        "es": "Kyra solo lo propone: una persona lo aprueba o lo rechaza.",
    },
    "changed": {
        "en": "{summary} (config v{before} → v{after}).",
        "es": "{summary} (config v{before} → v{after}).",
    },
    "would_change": {
        "en": "If approved: {summary}.",
        "es": "Si se aprueba: {summary}.",
    },
    "nothing_changed": {
        "en": "Nothing was changed.",
        "es": "No se cambió nada.",
    },
    "edit": {"en": "{path}: {before} → {after}", "es": "{path}: {before} → {after}"},
    "label.what_broke": {"en": "What broke", "es": "Qué falló"},
    "label.why": {"en": "Why this fix", "es": "Por qué este arreglo"},
    "label.changed": {"en": "What changed", "es": "Qué cambió"},
    "label.avoid": {"en": "Next time", "es": "La próxima vez"},
}
