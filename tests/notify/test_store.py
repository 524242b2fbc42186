"""The delivery table's promises, on SQLite and PostgreSQL: one claim per stage, and one
retrier per failed delivery."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from kyra.errors import ConflictError, NotFoundError
from kyra.store import Store
from kyra.store import notify as notify_store
from kyra.store.tenants import ensure_tenant
from kyra.store.types import utcnow

LEASE = timedelta(minutes=5)


def _claim(store: Store, tenant: str, channel: str, kind: str = "verified") -> object:
    return notify_store.claim_delivery(
        store,
        tenant_id=tenant,
        channel_id=channel,
        incident="inc-1",
        event_kind=kind,
        event_key="exec-1:fix-1",
        workflow_id=None,
        event={"kind": kind},
        now=utcnow(),
        lease=LEASE,
    )


def test_channels_are_per_tenant_and_named_once(store: Store) -> None:
    a = ensure_tenant(store, "a").id
    b = ensure_tenant(store, "b").id
    notify_store.add_channel(store, a, name="ops", kind="slack", config={"url": "http://x"})
    notify_store.add_channel(store, b, name="ops", kind="teams", config={"url": "http://y"})
    with pytest.raises(ConflictError):
        notify_store.add_channel(store, a, name="ops", kind="slack", config={})
    assert [c.kind for c in notify_store.list_channels(store, a)] == ["slack"]
    notify_store.remove_channel(store, a, "ops")
    with pytest.raises(NotFoundError):
        notify_store.get_channel(store, a, "ops")
    assert notify_store.get_channel(store, b, "ops").events is None


def test_a_stage_is_claimed_once_even_by_racing_threads(store: Store) -> None:
    tenant = ensure_tenant(store, "t").id
    channel = notify_store.add_channel(store, tenant, name="c", kind="slack", config={}).id
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(_claim(store, tenant, channel)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r is not None for r in results) == 1
    assert _claim(store, tenant, channel, kind="diagnosed") is not None


def test_a_failed_delivery_is_reclaimed_by_one_retrier(store: Store) -> None:
    tenant = ensure_tenant(store, "t").id
    channel = notify_store.add_channel(store, tenant, name="c", kind="slack", config={}).id
    delivery = notify_store.claim_delivery(
        store,
        tenant_id=tenant,
        channel_id=channel,
        incident="i",
        event_kind="k",
        event_key="e",
        workflow_id=None,
        event={},
        now=utcnow(),
        lease=LEASE,
    )
    assert delivery is not None
    now = utcnow()
    assert notify_store.reclaim_delivery(store, delivery.id, now=now, lease=LEASE) is None
    assert notify_store.retryable_deliveries(store, now=now) == []

    notify_store.finish_delivery(
        store, delivery.id, status="failed", attempts=3, now=now, error="down"
    )
    (row,) = notify_store.retryable_deliveries(store, now=now)
    assert row.last_error == "down"
    assert notify_store.reclaim_delivery(store, delivery.id, now=now, lease=LEASE) is not None
    assert notify_store.reclaim_delivery(store, delivery.id, now=now, lease=LEASE) is None
    later = now + LEASE + timedelta(seconds=1)  # the retrier crashed mid-send
    assert [d.id for d in notify_store.retryable_deliveries(store, now=later)] == [delivery.id]
