"""Responses are bounded (issue 12, F4): a body trickling in past the step's timeout, a
body bigger than Kyra reads and one bigger than a step stores each fail the step with a
structured error, against the real fault server's streaming endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from kyra.app import Kyra, create_app
from kyra.demo import FaultServer
from kyra.engine.events import RunResult
from kyra.healing.diagnosis.engine import Diagnoser
from kyra.service import apply_workflow
from kyra.workflows.model import Workflow
from tests.apps import fresh_settings


@pytest.fixture
def kyra(tmp_path: Path) -> Iterator[Kyra]:
    settings = fresh_settings(
        tmp_path,
        http_max_response_bytes=5_000_000,
        http_max_stored_bytes=1_000_000,
    )
    app = create_app(settings)
    yield app
    app.close()


def _run(kyra: Kyra, url: str, **config: Any) -> RunResult:
    doc = {
        "name": "fetch",
        "config": config,
        "steps": [{"name": "get", "action": "http_request", "with": {"url": url}}],
    }
    record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc), replace=True)
    return kyra.executor().run(record)


def _stored_bytes(kyra: Kyra) -> int:
    with kyra.store.engine.connect() as conn:
        steps = conn.execute(text("SELECT coalesce(sum(length(output)), 0) FROM step_runs"))
        return int(steps.scalar_one())


def test_a_trickling_body_fails_at_the_step_timeout_as_a_timeout(
    kyra: Kyra, fault_server: FaultServer
) -> None:
    # 30 chunks of 1 KB, one every 0.2 s: no read ever waits 1 s, the whole takes 6 s.
    result = _run(kyra, f"{fault_server.url}/drip?chunks=30&size=1024&every=0.2", timeout="1s")
    assert result.status == "failed"
    ctx = result.error_context
    assert ctx is not None and ctx.error_type == "DeadlineExceeded"
    assert "did not finish within the 1s timeout" in (ctx.error_message or "")
    assert Diagnoser().diagnose(ctx).error_class == "timeout_error"


def test_a_body_over_the_read_cap_is_not_read_whole(kyra: Kyra, fault_server: FaultServer) -> None:
    result = _run(kyra, f"{fault_server.url}/big?bytes=20000000", timeout="30s")
    ctx = result.error_context
    assert ctx is not None and ctx.error_type == "ResponseTooLarge"
    assert "larger than 5000000 bytes (KYRA_HTTP_MAX_RESPONSE_BYTES)" in (ctx.error_message or "")
    assert ctx.attempt == 1  # not retried: a retry cannot shrink it
    assert _stored_bytes(kyra) < 100_000


def test_a_body_over_the_stored_cap_is_not_stored(kyra: Kyra, fault_server: FaultServer) -> None:
    result = _run(kyra, f"{fault_server.url}/big?bytes=2000000", timeout="30s")
    ctx = result.error_context
    assert ctx is not None and ctx.error_type == "ResponseTooLarge"
    assert "KYRA_HTTP_MAX_STORED_BYTES" in (ctx.error_message or "")
    assert _stored_bytes(kyra) < 100_000


def test_bodies_within_the_limits_pass_whole(kyra: Kyra, fault_server: FaultServer) -> None:
    result = _run(kyra, f"{fault_server.url}/big?bytes=600000", timeout="30s")
    assert result.succeeded
    assert len(result.outputs["get"]["json"]["data"]) == 600_000 - 12
    dripped = _run(kyra, f"{fault_server.url}/drip?chunks=3&size=100&every=0.05", timeout="5s")
    assert dripped.succeeded and dripped.outputs["get"]["text"] == "x" * 300
