"""The incidents' SQL on SQLite and on the real PostgreSQL server: a failure joins the
open incident, the window is honoured, exactly one resolver wins, pages are stable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from kyra.app import create_app
from kyra.service import apply_workflow
from kyra.store import incidents as incident_store
from kyra.store.types import utcnow
from kyra.workflows.model import Workflow
from tests.apps import fresh_settings

WINDOW = timedelta(minutes=15)


def test_incidents_open_join_resolve_and_page(db_url: str, tmp_path: Path) -> None:
    app = create_app(fresh_settings(tmp_path, database_url=db_url))
    try:
        store, tenant = app.store, app.tenant.id
        ids = {}
        for name in ("a", "b", "c"):
            doc = {"name": name, "steps": [{"name": "s", "action": "wait", "with": {"seconds": 0}}]}
            ids[name] = apply_workflow(app, tenant, Workflow.model_validate(doc))[0].id
        t0 = utcnow()

        def fail(name: str, host: str, at: timedelta) -> tuple[object, bool]:
            return incident_store.fail_on_host(
                store,
                tenant_id=tenant,
                host=host,
                workflow_id=ids[name],
                execution_id=f"x-{name}-{at.total_seconds()}",
                step_name="s",
                error="HTTP 503 StatusError",
                now=t0 + at,
                window=WINDOW,
                min_workflows=2,
            )

        assert fail("a", "h1", timedelta(0)) == (None, False)
        assert fail("a", "h1", timedelta(minutes=1)) == (None, False)  # same workflow
        assert fail("b", "h1", timedelta(minutes=20)) == (None, False)  # a's are stale
        incident, opened = fail("c", "h1", timedelta(minutes=21))
        assert opened and incident.workflows == ["b", "c"]  # type: ignore[attr-defined]
        joined, opened = fail("a", "h1", timedelta(minutes=22))
        assert not opened and joined.workflows == ["b", "c", "a"]  # type: ignore[attr-defined]
        assert incident_store.incident_of_execution(store, "x-a-1320.0") == joined.id  # type: ignore[attr-defined]
        fail("a", "h2", timedelta(minutes=23))
        second, _ = fail("b", "h2", timedelta(minutes=24))

        assert incident_store.open_hosts(store, tenant) == {"h1", "h2"}
        [first_page] = incident_store.list_incidents(store, tenant, limit=1)
        assert first_page.host == "h2"
        rest = incident_store.list_incidents(
            store, tenant, after_key=incident_store.incident_key(first_page)
        )
        assert [i.host for i in rest] == ["h1"]

        now = t0 + timedelta(minutes=30)
        [resolved] = incident_store.recover_hosts(store, tenant, {"h1", "h9"}, "ok-1", now)
        assert resolved.host == "h1" and resolved.resolved_by == "ok-1"
        assert incident_store.recover_hosts(store, tenant, {"h1"}, "ok-2", now) == []
        shown = incident_store.get_incident(store, tenant, resolved.id[:6])
        assert shown.status == "resolved" and len(shown.failures) == 3
        assert [i.host for i in incident_store.list_incidents(store, tenant, status="open")] == [
            "h2"
        ]
        assert second is not None
    finally:
        app.close()
