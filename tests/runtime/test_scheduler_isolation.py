"""One tenant's broken trigger never stops another tenant's triggers (issue 12, F1/F12).

Bad definitions are put straight into the database, as a definition saved before
validation got stricter (or edited by hand) would be: the scheduler logs each once,
parks it, and keeps firing everyone else's triggers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from kyra.app import Kyra, create_app
from kyra.clock import ManualClock
from kyra.runtime.scheduler import PARKED, Scheduler
from kyra.runtime.settings import RuntimeSettings
from kyra.service import apply_workflow
from kyra.store import schedules
from kyra.store.runtime_tables import ScheduleRow
from kyra.store.tables import WorkflowRow
from kyra.store.tenants import ensure_tenant
from kyra.workflows.model import Workflow
from tests.apps import fresh_settings

SETTINGS = RuntimeSettings(misfire_grace_seconds=30, lookahead_seconds=0)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 1, 1, 8, 59, 50, tzinfo=UTC))


@pytest.fixture
def kyra(db_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[Kyra]:
    settings = fresh_settings(tmp_path, database_url=db_url)
    app = create_app(settings, clock=clock)
    yield app
    app.close()


def _scheduled(kyra: Kyra, tenant: str, name: str, trigger: dict[str, object]) -> str:
    doc = {"name": name, "trigger": trigger, "steps": [{"name": "a", "action": "transform"}]}
    tenant_id = ensure_tenant(kyra.store, tenant).id
    record, _ = apply_workflow(kyra, tenant_id, Workflow.model_validate(doc))
    return record.id


def _corrupt_definition(kyra: Kyra, workflow_id: str, trigger: dict[str, object]) -> None:
    with kyra.store.engine.begin() as conn:
        definition = (
            conn.execute(WorkflowRow.__table__.select().where(WorkflowRow.id == workflow_id))
            .one()
            ._mapping["definition"]
        )
        conn.execute(
            update(WorkflowRow)
            .where(WorkflowRow.id == workflow_id)
            .values(
                definition={**definition, "trigger": trigger},
                definition_version=WorkflowRow.definition_version + 1,
            )
        )


def test_a_bad_definition_in_the_store_is_logged_once_and_others_still_fire(
    kyra: Kyra, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    good = _scheduled(kyra, "globex", "every-second", {"interval": "1s"})
    mars = _scheduled(kyra, "acme", "mars", {"cron": "* * * * *"})
    escape = _scheduled(kyra, "acme", "escape", {"cron": "* * * * *"})
    edited = _scheduled(kyra, "initech", "edited", {"interval": "5s"})
    scheduler = Scheduler(kyra.store, clock, SETTINGS, owner="test")
    scheduler.sync()
    # Definitions changed behind validation's back...
    _corrupt_definition(kyra, mars, {"cron": "* * * * *", "timezone": "Mars/Olympus"})
    _corrupt_definition(kyra, escape, {"cron": "* * * * *", "timezone": "../../etc/passwd"})
    # ...and a schedule row edited by hand (the slot functions cannot read it).
    with kyra.store.engine.begin() as conn:
        conn.execute(
            update(ScheduleRow)
            .where(ScheduleRow.workflow_id == edited)
            .values(trigger='{"kind": "cron", "cron": "* * * * *", "timezone": "Mars/Olympus"}')
        )

    fired: list[str] = []
    with caplog.at_level(logging.WARNING, logger="kyra.runtime.scheduler"):
        for _ in range(12):
            clock.advance(1)
            fired.extend(f.workflow_id for f in scheduler.tick())

    assert fired.count(good) == 12  # every second, as if nothing were wrong
    assert {mars, escape, edited}.isdisjoint(fired)
    for workflow_id in (mars, escape, edited):
        mentions = [r for r in caplog.records if workflow_id in r.getMessage()]
        assert len(mentions) == 1, workflow_id
    upcoming = {u.workflow_id: u.next_fire_at for u in schedules.upcoming_fires(kyra.store, 10)}
    assert all(upcoming[w] == PARKED for w in (mars, escape, edited))


def test_a_stored_interval_below_the_minimum_fires_at_the_minimum(
    kyra: Kyra, clock: ManualClock
) -> None:
    fast = _scheduled(kyra, "acme", "fast", {"interval": "1s"})
    _corrupt_definition(kyra, fast, {"interval": 0.01})
    scheduler = Scheduler(kyra.store, clock, SETTINGS, owner="test", min_interval=2.0)
    fired = []
    for _ in range(40):
        clock.advance(0.25)
        fired.extend(scheduler.tick())
    assert 4 <= len(fired) <= 6  # 10 s at one per 2 s, not 1,000 at one per 10 ms
