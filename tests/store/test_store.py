"""The store's contract, run on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import inspect

from kyra.engine.states import WorkflowState, sources_of
from kyra.errors import ConflictError, IllegalTransitionError, NotFoundError, SecretError
from kyra.store import Store, workers
from kyra.store import executions as ex
from kyra.store import healing as heal
from kyra.store import secrets as sec
from kyra.store import workflows as wf
from kyra.store.crypto import SecretBox
from kyra.store.executions import StepRun
from kyra.store.tenants import ensure_tenant
from kyra.store.types import utcnow
from kyra.workflows.model import Workflow, WorkflowConfig


def _workflow(name: str = "orders", delay: float = 0.0) -> Workflow:
    return Workflow.model_validate(
        {
            "name": name,
            "config": {"request_delay": delay},
            "steps": [{"name": "get", "action": "http_request", "with": {"url": "http://x"}}],
        }
    )


def test_migrations_create_every_table(store: Store) -> None:
    names = set(inspect(store.engine).get_table_names())
    assert {
        "tenants",
        "workflows",
        "config_versions",
        "executions",
        "step_runs",
        "secrets",
        "state_transitions",
        "alembic_version",
    } <= names


def test_workflow_versions_are_appended_with_author_and_reason(store: Store) -> None:
    tenant = ensure_tenant(store, "acme")
    record, created = wf.save_workflow(store, tenant.id, _workflow(), source="orders.yaml")
    assert created and record.config_version == 1

    v2 = wf.add_config_version(
        store,
        record.id,
        WorkflowConfig(request_delay=2.0),
        author="kyra",
        reason="rate limit: delay 0s -> 2s",
        fix_id="fix-1",
        expected_version=1,
    )
    assert v2.number == 2
    current = wf.get_workflow(store, tenant.id, "orders")
    assert current.config_version == 2
    assert current.workflow.config.request_delay == 2.0

    history = wf.config_history(store, record.id)
    assert [(v.number, v.author, v.fix_id) for v in history] == [
        (1, "user", None),
        (2, "kyra", "fix-1"),
    ]
    assert history[0].reason == "applied from orders.yaml"
    assert wf.get_config_version(store, record.id, 1).config["request_delay"] == 0.0


def test_stale_config_version_is_refused(store: Store) -> None:
    tenant = ensure_tenant(store, "acme")
    record, _ = wf.save_workflow(store, tenant.id, _workflow())
    wf.add_config_version(store, record.id, WorkflowConfig(timeout=5), author="user", reason="r")
    with pytest.raises(ConflictError):
        wf.add_config_version(
            store,
            record.id,
            WorkflowConfig(timeout=9),
            author="kyra",
            reason="stale",
            expected_version=1,
        )
    assert wf.get_workflow_by_id(store, record.id).config_version == 2


def test_name_clash_needs_replace_and_reapply_keeps_version(store: Store) -> None:
    tenant = ensure_tenant(store, "acme")
    wf.save_workflow(store, tenant.id, _workflow())
    with pytest.raises(ConflictError, match="already exists"):
        wf.save_workflow(store, tenant.id, _workflow())
    same, created = wf.save_workflow(store, tenant.id, _workflow(), replace=True)
    assert not created and same.config_version == 1  # unchanged config: no new version
    changed, _ = wf.save_workflow(store, tenant.id, _workflow(delay=3), replace=True)
    assert changed.config_version == 2


def test_tenants_do_not_see_each_other(store: Store) -> None:
    a = ensure_tenant(store, "a")
    b = ensure_tenant(store, "b")
    wf.save_workflow(store, a.id, _workflow())
    wf.save_workflow(store, b.id, _workflow())  # same name, other tenant: no clash
    assert [r.name for r in wf.list_workflows(store, a.id)] == ["orders"]
    record_b = wf.get_workflow(store, b.id, "orders")
    eid = ex.create_execution(store, tenant_id=b.id, workflow_id=record_b.id, inputs={})
    with pytest.raises(NotFoundError):
        ex.get_execution(store, eid, tenant_id=a.id)
    assert ex.list_executions(store, a.id) == []


def test_state_transitions_follow_the_table_and_are_recorded(store: Store) -> None:
    tenant = ensure_tenant(store, "acme")
    record, _ = wf.save_workflow(store, tenant.id, _workflow())
    wf.transition_state(
        store,
        record.id,
        "failed",
        allowed_from=sources_of(WorkflowState.FAILED),
        reason="step get failed",
    )
    with pytest.raises(IllegalTransitionError):
        wf.transition_state(
            store, record.id, "fixed", allowed_from=sources_of(WorkflowState.FIXED), reason="no"
        )
    assert wf.get_workflow_by_id(store, record.id).state == "failed"
    history = wf.state_history(store, record.id)
    assert [(h.from_state, h.to_state, h.reason) for h in history] == [
        ("active", "failed", "step get failed")
    ]


def test_execution_steps_and_outcomes_are_durable(store: Store) -> None:
    tenant = ensure_tenant(store, "acme")
    record, _ = wf.save_workflow(store, tenant.id, _workflow())
    eid = ex.create_execution(store, tenant_id=tenant.id, workflow_id=record.id, inputs={"a": 1})
    assert ex.get_execution(store, eid).status == "queued"
    ex.start_execution(store, eid, 1)
    now = utcnow()
    ex.record_step(
        store,
        eid,
        StepRun(
            0,
            "get",
            "http_request",
            "failed",
            3,
            now,
            now,
            12.5,
            params={"url": "http://x"},
            error={"status_code": 503},
        ),
        finish_status=None,
    )
    ex.finish_execution(
        store,
        eid,
        "failed",
        failed_step="get",
        error_context={"error_type": "HTTPStatusError", "status_code": 503},
    )
    info = ex.get_execution(store, eid[:8])
    assert info.status == "failed" and info.failed_step == "get"
    assert info.steps[0].attempts == 3 and info.steps[0].error == {"status_code": 503}
    assert info.started_at is not None and info.finished_at is not None
    outcomes = ex.recent_outcomes(store, record.id)
    assert outcomes[0]["status"] == "failed" and outcomes[0]["status_code"] == 503
    with pytest.raises(ConflictError):
        ex.start_execution(store, eid, 1)  # a finished execution is not run again


def test_secrets_are_encrypted_at_rest(store: Store) -> None:
    tenant = ensure_tenant(store, "acme")
    box = SecretBox(Fernet.generate_key())
    assert sec.set_secret(store, box, tenant.id, "API_TOKEN", "tok-very-secret-123")
    assert not sec.set_secret(store, box, tenant.id, "API_TOKEN", "tok-very-secret-456")
    assert sec.load_secrets(store, box, tenant.id) == {"API_TOKEN": "tok-very-secret-456"}
    with store.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT ciphertext FROM secrets").scalar_one()
    assert b"tok-very-secret" not in bytes(raw)
    with pytest.raises(SecretError, match="cannot be decrypted"):
        sec.load_secrets(store, SecretBox(Fernet.generate_key()), tenant.id)
    with pytest.raises(SecretError, match="invalid secret name"):
        sec.set_secret(store, box, tenant.id, "bad name", "x")


def test_unhealed_failures_are_the_failed_ones_nobody_answers(store: Store) -> None:
    tenant = ensure_tenant(store, "acme")
    now = utcnow()

    def failed_workflow(name: str, state: WorkflowState) -> tuple[str, str]:
        record, _ = wf.save_workflow(store, tenant.id, _workflow(name))
        wf.transition_state(
            store,
            record.id,
            WorkflowState.FAILED,
            allowed_from=frozenset(WorkflowState),
            reason="t",
        )
        if state is not WorkflowState.FAILED:
            wf.transition_state(
                store, record.id, state, allowed_from=frozenset(WorkflowState), reason="t"
            )
        eid = ex.create_execution(store, tenant_id=tenant.id, workflow_id=record.id, inputs={})
        ex.finish_execution(store, eid, "failed", failed_step="get")
        return record.id, eid

    left_failed = failed_workflow("left-failed", WorkflowState.FAILED)
    left_fixing = failed_workflow("left-fixing", WorkflowState.FIXING)
    answered, answered_eid = failed_workflow("answered", WorkflowState.FAILED)
    heal.create_fix(
        store,
        tenant_id=tenant.id,
        workflow_id=answered,
        execution_id=answered_eid,
        error_class="timeout_error",
        safety="GREEN",
        status="applied",
    )
    locked, locked_eid = failed_workflow("being-healed", WorkflowState.FIXING)
    assert workers.acquire_heal_lock(
        store, locked, "alive", execution_id=locked_eid, now=now, until=now + timedelta(minutes=5)
    )
    recovered, _ = failed_workflow("recovered", WorkflowState.FAILED)
    later = ex.create_execution(store, tenant_id=tenant.id, workflow_id=recovered, inputs={})
    ex.finish_execution(store, later, "succeeded")

    found = workers.unhealed_failures(store, now)
    assert sorted(found) == sorted(
        [(left_failed[0], "failed", left_failed[1]), (left_fixing[0], "fixing", left_fixing[1])]
    )
    # An expired lock is nobody's: that workflow is found too
    assert (locked, "fixing", locked_eid) in workers.unhealed_failures(
        store, now + timedelta(minutes=6)
    )
