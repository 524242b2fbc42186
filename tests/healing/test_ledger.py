"""The healing ledger writes a fix row, its audit record and its event as one: all three
or none, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kyra.app import Kyra, create_app
from kyra.clock import ManualClock
from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis import Diagnoser
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.events import HealEvent, HealListener
from kyra.healing.ledger import Audit, FixChange, Ledger, Note, about_fix, new_fix
from kyra.healing.taxonomy import ErrorClass
from kyra.service import apply_workflow
from kyra.settings import Settings
from kyra.store import healing as heal_store
from kyra.store import metric_counts
from kyra.store.healing_tables import AuditRow, FixRow
from kyra.store.workflows import WorkflowRecord
from kyra.workflows.model import Workflow

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Heard(HealListener):
    def __init__(self) -> None:
        self.events: list[HealEvent] = []

    def on_heal_event(self, event: HealEvent) -> None:
        self.events.append(event)


class Deaf(HealListener):
    def on_heal_event(self, event: HealEvent) -> None:
        raise RuntimeError("this listener is broken")


@pytest.fixture
def kyra(db_url: str, tmp_path: Path) -> Iterator[Kyra]:
    app = create_app(
        Settings(database_url=db_url, home=tmp_path / ".kyra"), clock=ManualClock(START)
    )
    yield app
    app.close()


@pytest.fixture
def record(kyra: Kyra) -> WorkflowRecord:
    workflow = Workflow.model_validate(
        {
            "name": "orders",
            "steps": [
                {"name": "fetch", "action": "http_request", "with": {"url": "https://x.test/"}}
            ],
        }
    )
    return apply_workflow(kyra, kyra.tenant.id, workflow)[0]


def _ctx(record: WorkflowRecord) -> ErrorContext:
    return ErrorContext(
        workflow_id=record.id,
        workflow_name=record.name,
        tenant_id=record.tenant_id,
        execution_id="e0000000-0000-0000-0000-000000000001",
        step_name="fetch",
        status_code=429,
        error_type="HTTPStatusError",
        error_message="Too Many Requests",
    )


@pytest.fixture
def diagnosis(diagnoser: Diagnoser, record: WorkflowRecord) -> Diagnosis:
    found = diagnoser.diagnose(_ctx(record))
    assert found.error_class is ErrorClass.RATE_LIMIT_EXCEEDED
    return found


def _counted(kyra: Kyra) -> dict[str, float]:
    return {
        f"{c.name}{sorted(c.labels.items())}": c.value
        for c in metric_counts.counts(kyra.store)
        if c.name == "kyra_fixes_total"
    }


def _rows(kyra: Kyra) -> tuple[int, int]:
    with kyra.store.engine.connect() as conn:
        fixes = conn.scalar(select(func.count()).select_from(FixRow))
        audits = conn.scalar(select(func.count()).select_from(AuditRow))
    return int(fixes or 0), int(audits or 0)


def _ledger(kyra: Kyra, *listeners: HealListener) -> Ledger:
    return Ledger(kyra.store, kyra.clock, list(listeners))


def _note(record: WorkflowRecord, fix_id: str, **values: Any) -> Note:
    return Note("proposed", record.tenant_id, record.id, record.name, None, fix_id, None, values)


def test_a_fix_its_audit_record_and_its_event_are_written_together(
    kyra: Kyra, record: WorkflowRecord, diagnosis: Diagnosis
) -> None:
    heard = Heard()
    ledger = _ledger(kyra, heard)
    fix = new_fix(record, _ctx(record), diagnosis, status="proposed", reason="slow", now=START)
    audit = Audit("fix_proposed", "slow down", record.tenant_id, record.id, fix.id)
    ledger.record(fix=fix, audit=audit, notes=[_note(record, fix.id, fix=fix.id[:8])])

    stored = heal_store.get_fix(kyra.store, fix.id)
    assert (stored.status, stored.error_class, stored.confidence) == (
        "proposed",
        "rate_limit_exceeded",
        diagnosis.confidence,
    )
    [entry] = heal_store.list_audit(kyra.store, record.tenant_id)
    assert (entry.kind, entry.fix_id, entry.summary) == ("fix_proposed", fix.id, "slow down")
    assert entry.created_at.replace(tzinfo=UTC) == START  # stamped by the ledger's clock
    [event] = heard.events
    assert (event.kind, event.fix_id, event.at, event.values) == (
        "proposed",
        fix.id,
        START,
        {"fix": fix.id[:8]},
    )


def test_a_refused_audit_record_leaves_no_fix_and_announces_nothing(
    kyra: Kyra, record: WorkflowRecord, diagnosis: Diagnosis
) -> None:
    heard = Heard()
    ledger = _ledger(kyra, heard)
    before = _counted(kyra)
    fix = new_fix(record, _ctx(record), diagnosis, status="applied", reason="pace", now=START)
    refused = Audit("fix_applied", "pace", record.tenant_id, record.id, fix.id, actor=None)  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):  # NOT NULL on audit_records.actor, in the database
        ledger.record(fix=fix, audit=refused, notes=[_note(record, fix.id)])
    assert _rows(kyra) == (0, 0)
    assert _counted(kyra) == before  # the fix's /metrics count went with it
    assert heard.events == []


def test_a_refused_change_keeps_the_fix_as_it_was(
    kyra: Kyra, record: WorkflowRecord, diagnosis: Diagnosis
) -> None:
    heard = Heard()
    ledger = _ledger(kyra, heard)
    fix = new_fix(record, _ctx(record), diagnosis, status="proposed", reason="slow", now=START)
    ledger.record(fix=fix)
    stored = heal_store.get_fix(kyra.store, fix.id)
    counted = _counted(kyra)
    refused = Audit("rejected", "no", record.tenant_id, record.id, fix.id, actor=None)  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        ledger.record(
            fix=FixChange(fix.id, {"status": "rejected", "decided_by": "ana"}),
            audit=refused,
            notes=[about_fix("rejected", stored, None, fix=fix.id[:8], actor="ana")],
        )
    after = heal_store.get_fix(kyra.store, fix.id)
    assert (after.status, after.decided_by) == ("proposed", None)
    assert _rows(kyra) == (1, 0)
    assert _counted(kyra) == counted
    assert heard.events == []


def test_a_broken_listener_neither_undoes_the_records_nor_silences_the_others(
    kyra: Kyra, record: WorkflowRecord, diagnosis: Diagnosis
) -> None:
    heard = Heard()
    ledger = _ledger(kyra, Deaf(), heard)
    fix = new_fix(record, _ctx(record), diagnosis, status="blocked", reason="quota", now=START)
    ledger.record(
        fix=fix,
        audit=Audit("blocked", "quota", record.tenant_id, record.id, fix.id),
        notes=[_note(record, fix.id)],
    )
    assert _rows(kyra) == (1, 1)
    assert [e.fix_id for e in heard.events] == [fix.id]


def test_a_listener_added_later_hears_what_follows(kyra: Kyra, record: WorkflowRecord) -> None:
    listeners: list[HealListener] = []
    ledger = Ledger(kyra.store, kyra.clock, listeners)
    ledger.announce(_note(record, "f1"))
    heard = Heard()
    listeners.append(heard)
    assert isinstance(kyra.clock, ManualClock)
    kyra.clock.advance(90)
    ledger.announce(_note(record, "f2"))
    assert [(e.fix_id, e.at) for e in heard.events] == [("f2", START + timedelta(seconds=90))]
