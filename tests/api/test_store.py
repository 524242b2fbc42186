"""The API's store contract on SQLite and PostgreSQL, and migration 0005."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from kyra.errors import ConflictError, NotFoundError
from kyra.store import Store
from kyra.store import api as api_store
from kyra.store import executions as ex
from kyra.store import workflows as wf
from kyra.store.tenants import ensure_tenant
from kyra.workflows.model import Workflow


def test_migration_0005_creates_the_api_tables(store: Store) -> None:
    names = set(inspect(store.engine).get_table_names())
    assert {"api_keys", "tenant_settings", "webhooks", "install_secrets"} <= names


def test_api_keys_prefix_is_unique_and_revocation_is_scoped(store: Store) -> None:
    a = ensure_tenant(store, "a")
    b = ensure_tenant(store, "b")
    key = api_store.add_api_key(store, a.id, "abcd1234", "0" * 64, "ci")
    assert key.tenant_name == "a"
    with pytest.raises(ConflictError):
        api_store.add_api_key(store, b.id, "abcd1234", "1" * 64, "")
    with pytest.raises(NotFoundError):
        api_store.revoke_api_key(store, b.id, "abcd1234")
    assert api_store.revoke_api_key(store, a.id, "abcd1234").revoked
    assert [k.prefix for k in api_store.list_api_keys(store, b.id)] == []


def test_tenant_settings_default_then_update(store: Store) -> None:
    t = ensure_tenant(store, "a")
    assert api_store.tenant_settings(store, t.id).downtime_value_per_hour == 50.0
    api_store.update_tenant_settings(store, t.id, downtime_value_per_hour=80.0)
    updated = api_store.update_tenant_settings(store, t.id, manual_repair_hours=2.0)
    assert (updated.downtime_value_per_hour, updated.manual_repair_hours) == (80.0, 2.0)


def test_install_secret_is_made_once(store: Store) -> None:
    first = api_store.install_secret(store, "s")
    assert len(first) == 32 and api_store.install_secret(store, "s") == first


def test_delete_workflow_cascades_and_refuses_while_running(store: Store) -> None:
    t = ensure_tenant(store, "a")
    doc = {"name": "w", "steps": [{"name": "s", "action": "http_request", "with": {"url": "x"}}]}
    record, _ = wf.save_workflow(store, t.id, Workflow.model_validate(doc))
    api_store.set_webhook(store, t.id, record.id, "hook1", "0" * 64, "SECRET")
    running = ex.create_execution(
        store, tenant_id=t.id, workflow_id=record.id, inputs={}, status="running"
    )
    with pytest.raises(ConflictError):
        api_store.delete_workflow(store, t.id, "w")
    ex.finish_execution(store, running, "succeeded")
    api_store.delete_workflow(store, t.id, "w")
    assert api_store.webhook_by_hook_id(store, "hook1") is None
    with pytest.raises(NotFoundError):
        ex.get_execution(store, running)
    with pytest.raises(NotFoundError):
        api_store.delete_workflow(store, t.id, "w")
