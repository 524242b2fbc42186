"""Workflows, their versioned config and their recorded state transitions.

The config is versioned on its own: every change (a user applying a file, Kyra applying
a fix, a rollback) is version N+1 with its author and reason, so any fix can be undone
by going back to the version before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kyra.errors import (
    ConflictError,
    IllegalTransitionError,
    NotFoundError,
    WorkflowExistsError,
)
from kyra.store.db import Store
from kyra.store.paging import Key, after
from kyra.store.tables import ConfigVersionRow, StateTransitionRow, WorkflowRow
from kyra.store.types import utcnow
from kyra.workflows.model import Workflow, WorkflowConfig


@dataclass(frozen=True)
class WorkflowRecord:
    """A stored workflow with its current config applied."""

    id: str
    tenant_id: str
    name: str
    workflow: Workflow
    state: str
    state_reason: str
    config_version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ConfigVersion:
    number: int
    config: dict[str, Any]
    author: str
    reason: str
    fix_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class StateChange:
    from_state: str
    to_state: str
    reason: str
    execution_id: str | None
    at: datetime


def _definition(workflow: Workflow) -> dict[str, Any]:
    return workflow.model_dump(mode="json", by_alias=True, exclude={"config"})


def _record(row: WorkflowRow, config: dict[str, Any]) -> WorkflowRecord:
    workflow = Workflow.model_validate({**row.definition, "config": config})
    return WorkflowRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        workflow=workflow,
        state=row.state,
        state_reason=row.state_reason,
        config_version=row.config_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _current_config(session: Session, row: WorkflowRow) -> dict[str, Any]:
    config = session.scalar(
        select(ConfigVersionRow.config).where(
            ConfigVersionRow.workflow_id == row.id, ConfigVersionRow.number == row.config_version
        )
    )
    if config is None:
        raise NotFoundError(f"workflow {row.name!r} has no config version {row.config_version}")
    return config


def save_workflow(
    store: Store, tenant_id: str, workflow: Workflow, *, replace: bool = False, source: str = ""
) -> tuple[WorkflowRecord, bool]:
    """Create a workflow, or with `replace` update it; returns (record, created).

    A changed config becomes a new version authored by the user; an unchanged one keeps
    the current version (so re-applying the same file does not undo nothing).
    """
    config = workflow.config.model_dump(mode="json")
    reason = f"applied from {source}" if source else "applied"
    try:
        with store.session.begin() as session:
            row = session.scalar(
                select(WorkflowRow)
                .where(WorkflowRow.tenant_id == tenant_id, WorkflowRow.name == workflow.name)
                .with_for_update()
            )
            if row is None:
                row = WorkflowRow(
                    tenant_id=tenant_id,
                    name=workflow.name,
                    definition=_definition(workflow),
                    trigger_kind=workflow.trigger.kind.value,
                    config_version=1,
                )
                session.add(row)
                session.flush()
                session.add(
                    ConfigVersionRow(
                        workflow_id=row.id, number=1, config=config, author="user", reason=reason
                    )
                )
                session.flush()
                return _record(row, config), True
            if not replace:
                raise WorkflowExistsError(workflow.name)
            definition = _definition(workflow)
            if definition != row.definition:
                row.definition = definition
                row.definition_version += 1
                row.trigger_kind = workflow.trigger.kind.value
            if config != _current_config(session, row):
                _append_version(session, row, config, "user", reason, None)
            row.updated_at = utcnow()
            session.flush()
            return _record(row, config), False
    except IntegrityError as exc:
        raise ConflictError(
            f"a workflow named {workflow.name!r} was created at the same time; try again"
        ) from exc


def _append_version(
    session: Session,
    row: WorkflowRow,
    config: dict[str, Any],
    author: str,
    reason: str,
    fix_id: str | None,
) -> ConfigVersionRow:
    latest = session.scalar(
        select(func.max(ConfigVersionRow.number)).where(ConfigVersionRow.workflow_id == row.id)
    )
    version = ConfigVersionRow(
        workflow_id=row.id,
        number=(latest or 0) + 1,
        config=config,
        author=author,
        reason=reason,
        fix_id=fix_id,
    )
    session.add(version)
    row.config_version = version.number
    row.updated_at = utcnow()
    return version


def add_config_version(
    store: Store,
    workflow_id: str,
    config: WorkflowConfig,
    *,
    author: str,
    reason: str,
    fix_id: str | None = None,
    expected_version: int | None = None,
) -> ConfigVersion:
    """Append version N+1 and make it current. `expected_version` guards against a
    concurrent change (a fix computed from version 3 must not land on version 4)."""
    if author not in ("user", "kyra"):
        raise ValueError("author is 'user' or 'kyra'")
    data = config.model_dump(mode="json")
    with store.session.begin() as session:
        row = session.scalar(
            select(WorkflowRow).where(WorkflowRow.id == workflow_id).with_for_update()
        )
        if row is None:
            raise NotFoundError(f"no workflow with id {workflow_id}")
        if expected_version is not None and row.config_version != expected_version:
            raise ConflictError(
                f"config of {row.name!r} changed (now version {row.config_version}, "
                f"expected {expected_version})"
            )
        version = _append_version(session, row, data, author, reason, fix_id)
        session.flush()
        return _config_version(version)


def _config_version(row: ConfigVersionRow) -> ConfigVersion:
    return ConfigVersion(
        number=row.number,
        config=row.config,
        author=row.author,
        reason=row.reason,
        fix_id=row.fix_id,
        created_at=row.created_at,
    )


def get_workflow(store: Store, tenant_id: str, name: str) -> WorkflowRecord:
    with store.session() as session:
        row = session.scalar(
            select(WorkflowRow).where(WorkflowRow.tenant_id == tenant_id, WorkflowRow.name == name)
        )
        if row is None:
            raise NotFoundError(f"no workflow named {name!r}")
        return _record(row, _current_config(session, row))


_WORKFLOW_ID = (
    select(WorkflowRow.id)
    .where(WorkflowRow.tenant_id == bindparam("b_tenant"), WorkflowRow.name == bindparam("b_name"))
    .limit(1)
)


def workflow_id(store: Store, tenant_id: str, name: str) -> str:
    """Only the id of a workflow (queueing a run needs no more): one indexed lookup, no
    definition parsed."""
    with store.reader.connect() as conn:
        found = conn.scalar(_WORKFLOW_ID, {"b_tenant": tenant_id, "b_name": name})
    if found is None:
        raise NotFoundError(f"no workflow named {name!r}")
    return str(found)


def get_workflow_by_id(store: Store, workflow_id: str) -> WorkflowRecord:
    with store.session() as session:
        row = session.get(WorkflowRow, workflow_id)
        if row is None:
            raise NotFoundError(f"no workflow with id {workflow_id}")
        return _record(row, _current_config(session, row))


def list_workflows(
    store: Store, tenant_id: str, *, limit: int | None = None, after_key: Key | None = None
) -> list[WorkflowRecord]:
    """By name; `after_key` (`(name,)`) starts after that name."""
    query = after(
        select(WorkflowRow).where(WorkflowRow.tenant_id == tenant_id),
        [(WorkflowRow.name, False)],
        after_key,
    )
    with store.session() as session:
        rows = session.scalars(query.limit(limit)).all()
        configs = {
            (wid, number): config
            for wid, number, config in session.execute(
                select(
                    ConfigVersionRow.workflow_id, ConfigVersionRow.number, ConfigVersionRow.config
                )
                .join(WorkflowRow, WorkflowRow.id == ConfigVersionRow.workflow_id)
                .where(
                    WorkflowRow.tenant_id == tenant_id,
                    ConfigVersionRow.number == WorkflowRow.config_version,
                    ConfigVersionRow.workflow_id.in_([row.id for row in rows]),
                )
            )
        }
        return [_record(row, configs[(row.id, row.config_version)]) for row in rows]


def config_history(store: Store, workflow_id: str) -> list[ConfigVersion]:
    with store.session() as session:
        rows = session.scalars(
            select(ConfigVersionRow)
            .where(ConfigVersionRow.workflow_id == workflow_id)
            .order_by(ConfigVersionRow.number)
        ).all()
        return [_config_version(row) for row in rows]


def get_config_version(store: Store, workflow_id: str, number: int) -> ConfigVersion:
    with store.session() as session:
        row = session.scalar(
            select(ConfigVersionRow).where(
                ConfigVersionRow.workflow_id == workflow_id, ConfigVersionRow.number == number
            )
        )
        if row is None:
            raise NotFoundError(f"no config version {number}")
        return _config_version(row)


def transition_state(
    store: Store,
    workflow_id: str,
    target: str,
    *,
    allowed_from: frozenset[str],
    reason: str,
    execution_id: str | None = None,
) -> str:
    """Atomically move a workflow to `target` if its current state is in `allowed_from`;
    returns the previous state. The caller (engine.states) owns the transition table."""
    with store.session.begin() as session:
        row = session.scalar(
            select(WorkflowRow).where(WorkflowRow.id == workflow_id).with_for_update()
        )
        if row is None:
            raise NotFoundError(f"no workflow with id {workflow_id}")
        previous = row.state
        if previous not in allowed_from:
            raise IllegalTransitionError(previous, target)
        row.state = target
        row.state_reason = reason
        row.updated_at = utcnow()
        session.add(
            StateTransitionRow(
                workflow_id=workflow_id,
                from_state=previous,
                to_state=target,
                reason=reason,
                execution_id=execution_id,
            )
        )
        return previous


def _state_change(r: StateTransitionRow) -> StateChange:
    return StateChange(r.from_state, r.to_state, r.reason, r.execution_id, r.at)


def last_state_change(store: Store, workflow_id: str) -> StateChange | None:
    """The workflow's latest state transition (one row), if any."""
    query = select(StateTransitionRow).where(StateTransitionRow.workflow_id == workflow_id)
    with store.session() as session:
        row = session.scalars(query.order_by(StateTransitionRow.id.desc()).limit(1)).first()
        return _state_change(row) if row else None


def state_history(store: Store, workflow_id: str) -> list[StateChange]:
    query = select(StateTransitionRow).where(StateTransitionRow.workflow_id == workflow_id)
    with store.session() as session:
        return [_state_change(r) for r in session.scalars(query.order_by(StateTransitionRow.id))]
