"""Property-based fuzz of the OpenAPI schema (schemathesis): no input yields a 5xx.

Requests carry a valid key, so the fuzz reaches the handlers, not just the auth check;
a workflow with a failed run and a pending proposal exists, so a share of generated
names resolve. Each operation gets its own Hypothesis run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis  # a dev dependency: CI fails loudly if it is missing, never skips
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error

from kyra.api import create_api
from kyra.api.auth import create_api_key
from kyra.app import create_app
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store.tenants import ensure_tenant
from kyra.workflows.model import Workflow

EXAMPLES = 40


def test_no_input_makes_a_server_error(tmp_path: Path) -> None:
    kyra = create_app(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'kyra.db'}",
            home=tmp_path / ".kyra",
            secret_key=SecretStr(Fernet.generate_key().decode()),
        )
    )
    tenant = ensure_tenant(kyra.store, "fuzz")
    _, key = create_api_key(kyra, tenant.id)
    doc = {
        "name": "a",
        "trigger": "webhook",
        "steps": [{"name": "s", "action": "http_request", "with": {"url": "http://127.0.0.1:9/"}}],
    }
    apply_workflow(kyra, tenant.id, Workflow.model_validate(doc))
    headers = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_api(kyra))
    failures: list[str] = []
    try:
        for result in schema.get_all_operations():
            operation = result.ok()

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

            try:
                fuzz()
            except (Exception, BaseExceptionGroup) as exc:  # report every operation at once
                failures.append(f"{operation.label}: {exc}")
    finally:
        kyra.close()
    assert not failures, "\n\n".join(failures)
