"""Scheduler slots and catch-up policies with an injected clock (no sleeping), and two
schedulers racing on each database backend."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kyra.app import Kyra, create_app
from kyra.clock import ManualClock
from kyra.runtime.scheduler import Scheduler, decide, last_slot_at_or_before, next_slot_after
from kyra.runtime.settings import RuntimeSettings
from kyra.service import apply_workflow
from kyra.store import executions as ex
from kyra.store import queue, schedules
from kyra.store.schedules import DueSchedule
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Workflow
from tests.apps import fresh_settings

T0 = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
SETTINGS = RuntimeSettings(misfire_grace_seconds=30, lookahead_seconds=0)


def _cron(expr: str, tz: str = "UTC", catch_up: str = "skip") -> dict[str, str]:
    return {"kind": "cron", "cron": expr, "timezone": tz, "catch_up": catch_up}


def test_cron_slots_follow_the_time_zone_across_dst() -> None:
    # Madrid springs forward on 2026-03-29 at 02:00 local (01:00 UTC): the 02:00 job runs
    # once at 03:00 CEST that day (as cron does), then at 02:00 CEST (00:00 UTC)
    daily_2am = _cron("0 2 * * *", "Europe/Madrid")
    first = next_slot_after(daily_2am, T0)
    assert first == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert next_slot_after(daily_2am, first) == datetime(2026, 3, 30, 0, 0, tzinfo=UTC)
    hourly = _cron("0 * * * *", "Europe/Madrid")
    assert next_slot_after(hourly, datetime(2026, 3, 29, 0, 30, tzinfo=UTC)) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )
    slot = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert last_slot_at_or_before(hourly, slot) == slot


def test_interval_slots_are_aligned_to_the_epoch() -> None:
    every_30s = {"kind": "interval", "interval": 30.0}
    now = datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)
    assert next_slot_after(every_30s, now) == datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)
    assert last_slot_at_or_before(every_30s, now) == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("catch_up", "late", "expected"),
    [
        ("skip", 0.2, ["cron"]),  # on time
        ("skip", 3 * 3600 + 600, []),  # down for hours: missed slots dropped
        ("run_once", 3 * 3600 + 600, ["catch_up"]),  # one run for all missed
        ("run_once", 3 * 3600 + 5, ["catch_up", "cron"]),  # missed ones + the current slot
    ],
)
def test_missed_slots_follow_the_catch_up_policy(
    catch_up: str, late: float, expected: list[str]
) -> None:
    trigger = _cron("0 * * * *", catch_up=catch_up)
    due_at = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    due = DueSchedule("w", "t", "active", json.dumps(trigger), due_at)
    now = due_at + timedelta(seconds=late)
    fire = decide(due, now, SETTINGS.misfire_grace)
    assert [label for _, label in fire.slots] == expected
    assert fire.next_fire_at > now
    assert len({slot for slot, _ in fire.slots}) == len(fire.slots)


def test_inactive_workflows_do_not_fire() -> None:
    due_at = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    due = DueSchedule("w", "t", "inactive", json.dumps(_cron("0 * * * *")), due_at)
    assert decide(due, due_at, SETTINGS.misfire_grace).slots == ()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 1, 1, 8, 59, 50, tzinfo=UTC))


@pytest.fixture
def kyra(db_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[Kyra]:
    settings = fresh_settings(tmp_path, database_url=db_url)
    app = create_app(settings, clock=clock)
    yield app
    app.close()


def _scheduled(kyra: Kyra, name: str, trigger: dict[str, object]) -> WorkflowRecord:
    doc = {"name": name, "trigger": trigger, "steps": [{"name": "a", "action": "transform"}]}
    record, _ = apply_workflow(kyra, kyra.tenant.id, Workflow.model_validate(doc))
    return record


def test_scheduler_fires_on_time_and_catches_up_once(kyra: Kyra, clock: ManualClock) -> None:
    skip = _scheduled(kyra, "hourly-skip", {"cron": "0 * * * *"})
    once = _scheduled(kyra, "hourly-once", {"cron": "0 * * * *", "catch_up": "run_once"})
    scheduler = Scheduler(kyra.store, clock, SETTINGS, owner="test")
    assert scheduler.tick() == []  # 08:59:50: schedules created, nothing due
    clock.advance(10.3)  # 09:00:00.3
    assert {f.workflow_id for f in scheduler.tick()} == {skip.id, once.id}
    clock.advance(4 * 3600)  # the process was "down" over 10:00, 11:00, 12:00; now 13:00:00.3
    fired = scheduler.tick()
    labels = sorted((f.workflow_id == once.id, f.trigger) for f in fired)
    assert labels == [(False, "cron"), (True, "catch_up"), (True, "cron")]
    assert queue.count_by_status(kyra.store)["queued"] == 5


def test_two_schedulers_racing_fire_each_slot_once(kyra: Kyra, clock: ManualClock) -> None:
    records = [_scheduled(kyra, f"every-{n}", {"interval": "1s"}) for n in range(30)]
    a = Scheduler(kyra.store, clock, SETTINGS, owner="a")
    b = Scheduler(kyra.store, clock, SETTINGS, owner="b")
    a.sync()
    for _ in range(5):
        clock.advance(1)
        threads = [threading.Thread(target=s.tick) for s in (a, b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert a.fired_total + b.fired_total == 30 * 5
    for record in records:
        slots = schedules.fired_slots(kyra.store, record.id)
        assert len(slots) == 5 and len({s for _, s, _ in slots}) == 5
    assert queue.count_by_status(kyra.store)["queued"] == 150


def test_lookahead_queues_slots_early_runnable_at_their_time(
    kyra: Kyra, clock: ManualClock
) -> None:
    record = _scheduled(kyra, "soon", {"cron": "0 * * * *"})
    ahead = RuntimeSettings(lookahead_seconds=15)
    scheduler = Scheduler(kyra.store, clock, ahead, owner="test")
    [fired] = scheduler.tick()  # 08:59:50: the 09:00 slot is within 15 s
    assert fired.workflow_id == record.id
    slot = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    assert fired.scheduled_for == slot
    assert ex.get_execution(kyra.store, fired.execution_id).run_at == slot
    assert queue.claim_due(kyra.store, "w", clock.now(), slot + timedelta(seconds=30)) == []
    assert scheduler.tick() == []  # not fired twice


def test_a_slot_fired_late_keeps_its_slot_as_run_at(kyra: Kyra, clock: ManualClock) -> None:
    # The first sync lands just before a slot and the fire just after it (a slow tick):
    # the execution is due at its slot, not at the moment the scheduler got to it
    record = _scheduled(kyra, "ticker", {"interval": "1s"})
    scheduler = Scheduler(kyra.store, clock, SETTINGS, owner="test")
    scheduler.sync()
    clock.advance(1.006)
    fired = scheduler.tick()
    assert [f.workflow_id for f in fired] == [record.id]
    run_at = ex.get_execution(kyra.store, fired[0].execution_id).run_at
    assert run_at == fired[0].scheduled_for < clock.now()
    claimed = queue.claim_due(kyra.store, "w", clock.now(), clock.now())
    assert [c.id for c in claimed] == [fired[0].execution_id]
