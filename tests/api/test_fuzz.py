"""Property-based fuzz of the whole OpenAPI document (schemathesis): every operation,
the JSON body of `POST /api/v1/workflows` included, gets generated requests; no input
yields a 5xx, and every response matches its documented status, media type and schema.

Requests carry a real key, so the fuzz reaches the handlers, not just the auth check;
a webhook workflow with a failed run exists, so a share of generated names resolve.
Each operation gets its own Hypothesis run of EXAMPLES cases (the total is printed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis  # a dev dependency: CI fails loudly if it is missing, never skips
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from kyra.api import create_api
from kyra.api.auth import create_api_key
from kyra.app import create_app
from kyra.service import apply_workflow
from kyra.store.tenants import ensure_tenant
from kyra.workflows.model import Workflow
from tests.apps import fresh_settings

EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# ~750 generated requests: about 40 s on an idle 2-core machine, past the suite's 120 s
# default when it is shared (pytest-timeout then cut a case mid-request, and Hypothesis,
# replaying it, reported "Inconsistent results" instead of a finding).
@pytest.mark.timeout(600)
def test_every_operation_conforms_and_never_fails_with_a_5xx(tmp_path: Path) -> None:
    kyra = create_app(fresh_settings(tmp_path))
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
    cases: dict[str, int] = {}
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            label = operation.label
            cases[label] = 0

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case: Any) -> None:
                cases[label] += 1  # noqa: B023 - runs within this iteration
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                fuzz()
            except (Exception, BaseExceptionGroup) as exc:  # report every operation at once
                failures.append(f"{operation.label}: {exc}")
    finally:
        kyra.close()
    print(f"schemathesis: {sum(cases.values())} cases over {len(cases)} operations")
    assert not failures, "\n\n".join(failures)
    assert "POST /api/v1/workflows" in cases and len(cases) >= 29
    assert all(n > 0 for n in cases.values()), cases
