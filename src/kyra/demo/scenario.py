"""The demo scenario: four everyday workflows against the local fault server, three of
which break at 3 a.m. in ways Kyra handles differently (heal, heal, leave alone), plus
one that needs a person's approval."""

from __future__ import annotations

from typing import Any

from kyra.i18n import Catalog

DEMO_APPROVAL_VALUE = "leads@example.com"
"""The value the demo's "person" picks when approving the missing-field proposal."""

DESCRIPTIONS: Catalog = {
    "gmail-digest": {
        "en": "Sends three digest emails through an API that allows one per second.",
        "es": "Envía tres correos de resumen por una API que admite uno por segundo.",
    },
    "invoice-sync": {
        "en": "Creates an invoice; the billing API wants ISO dates, the CRM sends Spanish ones.",
        "es": "Crea una factura; la API de facturación quiere fechas ISO y el CRM las manda "
        "en español.",
    },
    "crm-sync": {
        "en": "Pulls contacts with an API key that was revoked.",
        "es": "Descarga contactos con una clave de API que fue revocada.",
    },
    "lead-capture": {
        "en": "Posts a lead to a form API that started requiring an email.",
        "es": "Envía un contacto a una API de formularios que empezó a exigir un email.",
    },
}
"""Each workflow's description, in the language the demo speaks (one per output)."""

DEMO_WORKFLOWS: list[dict[str, Any]] = [
    {
        "name": "gmail-digest",
        "steps": [
            {
                "name": f"send_{team}",
                "action": "http_request",
                "with": {
                    "method": "POST",
                    "url": "{{ inputs.api }}/pace/gmail?min_interval=0.8",
                    "json": {"to": f"{team}@example.com", "subject": "Daily digest"},
                },
            }
            for team in ("sales", "ops", "finance")
        ],
    },
    {
        "name": "invoice-sync",
        "inputs": {"due": "26 de noviembre de 2026"},
        "steps": [
            {
                "name": "create_invoice",
                "action": "http_request",
                "with": {
                    "method": "POST",
                    "url": "{{ inputs.api }}/dates?format=%Y-%m-%d&field=due_date",
                    "json": {"customer": "ACME", "amount": 1200, "due_date": "{{ inputs.due }}"},
                },
            },
        ],
    },
    {
        "name": "crm-sync",
        "steps": [
            {
                "name": "pull_contacts",
                "action": "http_request",
                "with": {
                    "url": "{{ inputs.api }}/auth?token=current-key",
                    "auth": {"bearer": "revoked-key"},
                },
            },
        ],
    },
    {
        "name": "lead-capture",
        "steps": [
            {
                "name": "post_lead",
                "action": "http_request",
                "with": {
                    "method": "POST",
                    "url": "{{ inputs.api }}/require?fields=email",
                    "json": {"name": "Ada Lovelace"},
                },
            },
        ],
    },
]
