"""Templates that run too long, produce too much or exhaust the interpreter fail their
step cleanly (the executor lives on), and `env` shows only what the operator allowed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kyra.app import Kyra, create_app
from kyra.demo import FaultServer
from kyra.service import apply_workflow
from kyra.store import executions as ex
from kyra.workflows.model import Workflow
from tests.apps import fresh_settings


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Kyra]:
    settings = fresh_settings(
        tmp_path,
        template_timeout_seconds=0.2,
        template_max_output_chars=5_000,
        template_env=["SHOP_REGION", "KYRA_DATABASE_URL", "SHOP_API_TOKEN"],
    )
    app = create_app(settings)
    yield app
    app.close()


def _run(kyra: Kyra, name: str, url: str, value: str) -> Any:
    doc = {
        "name": name,
        "steps": [{"name": "call", "action": "http_request", "with": {"url": url, "json": value}}],
    }
    record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
    return kyra.executor().run(record)


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        (
            "{% for i in range(100000) %}{% for j in range(100) %}{% endfor %}{% endfor %}",
            "took longer than 0.2s",
        ),
        ("{% for i in range(2000) %}abc{% endfor %}", "more than 5000 characters"),
        ("{{ ((9**999)**999) | string | length }}", "'**' would be too large"),
        ("{% set x = 'a' * 4000 %}{{ (x ~ x) | length }}", "'~' would be too large"),
        ("{{ 'a'.center(10**8) | length }}", "pads to more than"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "ran out of resources"),
    ],
)
def test_a_template_over_its_limits_fails_the_step_and_the_executor_goes_on(
    limited: Kyra, fault_server: FaultServer, template: str, reason: str
) -> None:
    result = _run(limited, "bomb", f"{fault_server.url}/echo", template)
    assert result.status == "failed"
    ctx = result.error_context
    assert ctx is not None and ctx.error_type == "TemplateLimitExceeded"
    assert reason in (ctx.error_message or "")
    assert fault_server.stats()["total"] == 0
    # The same executor runs the next workflow as usual.
    after = _run(limited, "fine", f"{fault_server.url}/echo", "{{ 6 * 7 }}")
    assert after.succeeded
    output = ex.get_execution(limited.store, after.execution_id).steps[0].output
    assert output["json"]["json"] == 42


def test_env_shows_only_allowed_names_and_never_credentials(
    limited: Kyra, fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://kyra:hunter2@db.internal/kyra")
    monkeypatch.setenv("SHOP_REGION", "eu-west")
    monkeypatch.setenv("SHOP_API_TOKEN", "tok-123")
    result = _run(limited, "env", f"{fault_server.url}/echo", "{{ env | tojson }}")
    assert result.succeeded
    echoed = ex.get_execution(limited.store, result.execution_id).steps[0].output["json"]
    # Allowed and present: shown. Not allowed (DATABASE_URL), Kyra's own settings and
    # credential-looking names (even when allowed): hidden.
    assert echoed["json"] == '{"SHOP_REGION": "eu-west"}'
    leaked = _run(limited, "dsn", f"{fault_server.url}/echo", "{{ env.DATABASE_URL }}")
    assert leaked.status == "failed"
    assert leaked.error_context is not None
    assert "KYRA_TEMPLATE_ENV" in (leaked.error_context.error_message or "")
