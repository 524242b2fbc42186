"""The demo scenario: four everyday workflows against the local fault server, three of
which break at 3 a.m. in ways Kyra handles differently (heal, heal, leave alone), plus
one that needs a person's approval."""

from __future__ import annotations

from typing import Any

DEMO_APPROVAL_VALUE = "leads@example.com"
"""The value the demo's "person" picks when approving the missing-field proposal."""

DEMO_WORKFLOWS: list[dict[str, Any]] = [
    {
        "name": "gmail-digest",
        "description": "Sends three digest emails through an API that allows one per second.",
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
        "description": "Creates an invoice; the billing API wants ISO dates, the CRM sends "
        "Spanish ones.",
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
        "description": "Pulls contacts with an API key that was revoked.",
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
        "description": "Posts a lead to a form API that started requiring an email.",
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
