"""Step trend rows on SQLite and PostgreSQL: written, rewritten in place, per workflow."""

from __future__ import annotations

from kyra.store import Store
from kyra.store import trends as trend_store
from kyra.store import workflows as wf
from kyra.store.tenants import ensure_tenant
from kyra.store.trends import StepTrend
from kyra.workflows.model import Workflow


def _workflow(name: str) -> Workflow:
    return Workflow.model_validate(
        {
            "name": name,
            "steps": [
                {"name": "get", "action": "http_request", "with": {"url": "http://x"}},
                {"name": "put", "action": "http_request", "with": {"url": "http://y"}},
            ],
        }
    )


def test_trends_are_upserted_per_workflow_step(store: Store) -> None:
    tenant = ensure_tenant(store, "acme")
    orders, _ = wf.save_workflow(store, tenant.id, _workflow("orders"))
    other, _ = wf.save_workflow(store, tenant.id, _workflow("other"))
    assert trend_store.load_trends(store, orders.id) == {}
    first = StepTrend(orders.id, "get", tenant.id, "x:80", {"runs": 1, "ratios": [0.1]})
    trend_store.save_trends(
        store, [first, StepTrend(orders.id, "put", tenant.id, "y", {"runs": 1})]
    )
    trend_store.save_trends(store, [StepTrend(other.id, "get", tenant.id, "z", {"runs": 7})])
    first.state = {"runs": 2, "ratios": [0.1, 0.2]}
    first.proposal_fix_id, first.proposal_timeout = "f" * 36, 4.0
    trend_store.save_trends(store, [first])
    loaded = trend_store.load_trends(store, orders.id)
    assert sorted(loaded) == ["get", "put"]
    assert loaded["get"] == first
    assert loaded["put"].state == {"runs": 1} and loaded["put"].proposal_fix_id is None
    assert trend_store.load_trends(store, other.id)["get"].state == {"runs": 7}
