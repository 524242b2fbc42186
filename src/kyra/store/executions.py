"""Executions and their step runs. Written step by step, so a crash loses at most the
step in flight, and a resumed execution can reuse the outputs of the steps before it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from kyra.errors import ConflictError, NotFoundError
from kyra.store.db import Store
from kyra.store.metric_counts import bump
from kyra.store.paging import Key, after
from kyra.store.tables import ExecutionRow, StepRunRow, WorkflowRow, new_id
from kyra.store.types import utcnow


@dataclass(frozen=True)
class StepRun:
    step_index: int
    step_name: str
    action: str
    status: str
    attempts: int
    started_at: datetime
    finished_at: datetime
    duration_ms: float
    params: dict[str, Any] | None = None
    output: Any = None
    error: dict[str, Any] | None = None
    reused: bool = False


@dataclass(frozen=True)
class ExecutionInfo:
    id: str
    tenant_id: str
    workflow_id: str
    workflow_name: str
    status: str
    trigger: str
    inputs: dict[str, Any]
    config_version: int | None
    resume_of: str | None
    start_step: int
    failed_step: str | None
    error_context: dict[str, Any] | None
    run_at: datetime
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    steps: list[StepRun] = field(default_factory=list)

    @property
    def duration_ms(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds() * 1000


_COLUMNS = (ExecutionRow, WorkflowRow.name)

# Hot-path statements built once: executing a prepared Core statement with a parameter
# dict skips SQLAlchemy's per-call statement construction and cache-key work.
_EXECUTIONS = ExecutionRow.__table__
_STEP_RUNS = StepRunRow.__table__
_INSERT_EXECUTION = insert(_EXECUTIONS)
_INSERT_STEP = insert(_STEP_RUNS)
_FINISH = (
    update(_EXECUTIONS)
    .where(_EXECUTIONS.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        finished_at=bindparam("b_finished_at"),
        failed_step=bindparam("b_failed_step"),
        error_context=bindparam("b_error_context"),
        lease_owner=None,
        lease_until=None,
    )
    .returning(_EXECUTIONS.c.tenant_id)
)
FINAL = frozenset({"succeeded", "failed", "cancelled"})


def _info(
    row: ExecutionRow, workflow_name: str, steps: list[StepRun] | None = None
) -> ExecutionInfo:
    return ExecutionInfo(
        id=row.id,
        tenant_id=row.tenant_id,
        workflow_id=row.workflow_id,
        workflow_name=workflow_name,
        status=row.status,
        trigger=row.trigger,
        inputs=row.inputs,
        config_version=row.config_version,
        resume_of=row.resume_of,
        start_step=row.start_step,
        failed_step=row.failed_step,
        error_context=row.error_context,
        run_at=row.run_at,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        steps=steps or [],
    )


def create_execution(
    store: Store,
    *,
    tenant_id: str,
    workflow_id: str,
    inputs: dict[str, Any],
    trigger: str = "manual",
    resume_of: str | None = None,
    start_step: int = 0,
    run_at: datetime | None = None,
    status: str = "queued",
    config_version: int | None = None,
    lease_owner: str | None = None,
    lease_until: datetime | None = None,
) -> str:
    """A durable row before anything runs: the execution exists even if we crash now.
    `status="running"` (with the config version) is for a run that starts at once, held
    from the start by `lease_owner` until `lease_until` (renewed by its heartbeat)."""
    execution_id = new_id()
    now = utcnow()
    with store.engine.begin() as conn:
        conn.execute(
            _INSERT_EXECUTION,
            {
                "id": execution_id,
                "tenant_id": tenant_id,
                "workflow_id": workflow_id,
                "status": status,
                "trigger": trigger,
                "inputs": inputs,
                "resume_of": resume_of,
                "start_step": start_step,
                "run_at": run_at or now,
                "claims": 0,
                "created_at": now,
                "config_version": config_version,
                "started_at": now if status == "running" else None,
                "lease_owner": lease_owner,
                "lease_until": lease_until,
            },
        )
    return execution_id


def create_executions(
    store: Store,
    *,
    tenant_id: str,
    workflow_id: str,
    inputs: list[dict[str, Any]],
    trigger: str = "manual",
) -> list[str]:
    """Many queued executions of one workflow in one transaction (a batch of runs)."""
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "workflow_id": workflow_id,
            "status": "queued",
            "trigger": trigger,
            "inputs": one,
            "resume_of": None,
            "start_step": 0,
            "run_at": now,
            "claims": 0,
            "created_at": now,
            "config_version": None,
            "started_at": None,
        }
        for one in inputs
    ]
    if rows:
        with store.engine.begin() as conn:
            conn.execute(_INSERT_EXECUTION, rows)
    return [row["id"] for row in rows]


def start_execution(store: Store, execution_id: str, config_version: int) -> None:
    """Mark an execution running with the config version it runs under."""
    with store.engine.begin() as conn:
        result = conn.execute(
            update(ExecutionRow)
            .where(
                ExecutionRow.id == execution_id,
                ExecutionRow.status.in_(("queued", "waiting", "running")),
            )
            .values(status="running", started_at=utcnow(), config_version=config_version)
        )
        if result.rowcount == 0:
            raise ConflictError(f"execution {execution_id} is not runnable (already finished?)")


def record_step(
    store: Store,
    execution_id: str,
    step: StepRun,
    *,
    finish_status: str | None = None,
    failed_step: str | None = None,
    error_context: dict[str, Any] | None = None,
    replace: bool = False,
) -> None:
    """Store one finished step; with `finish_status`, also close the execution in the
    same transaction (one commit for the last step and the outcome)."""
    with store.engine.begin() as conn:
        if replace:  # a step re-run after an interruption replaces its earlier record
            conn.execute(
                delete(StepRunRow).where(
                    StepRunRow.execution_id == execution_id,
                    StepRunRow.step_index == step.step_index,
                )
            )
        _insert_step(conn, execution_id, step)
        if finish_status is not None:
            _finish(conn, execution_id, finish_status, failed_step, error_context)


_STEP_COLUMNS = (
    "execution_id, step_index, step_name, action, status, attempts, params, output, error, "
    "reused, started_at, finished_at, duration_ms"
)
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DATETIME storage format


def _insert_step(conn: Any, execution_id: str, step: StepRun) -> None:
    """The hottest write (one per step): sent straight to the driver, skipping SQLAlchemy's
    per-statement work (~0.2 ms a step). Values are converted here exactly as the
    column types would (JSON text, UTC datetimes, booleans); the store tests read them
    back through the ORM on SQLite and PostgreSQL."""
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    started, finished = step.started_at.astimezone(UTC), step.finished_at.astimezone(UTC)
    values = (
        execution_id,
        step.step_index,
        step.step_name,
        step.action,
        step.status,
        step.attempts,
        _json(step.params),
        _json(step.output),
        _json(step.error),
        int(step.reused) if sqlite else step.reused,
        started.strftime(_SQLITE_TIME) if sqlite else started,
        finished.strftime(_SQLITE_TIME) if sqlite else finished,
        step.duration_ms,
    )
    conn.exec_driver_sql(
        f"INSERT INTO step_runs ({_STEP_COLUMNS}) VALUES ({', '.join([mark] * 13)})", values
    )


def _json(value: Any) -> str:
    # As SQLAlchemy's JSON type does by default: Python None is stored as JSON `null`.
    return json.dumps(value)


def finish_execution(
    store: Store,
    execution_id: str,
    status: str,
    *,
    failed_step: str | None = None,
    error_context: dict[str, Any] | None = None,
) -> None:
    with store.engine.begin() as conn:
        _finish(conn, execution_id, status, failed_step, error_context)


def _finish(
    conn: Any,
    execution_id: str,
    status: str,
    failed_step: str | None,
    error_context: dict[str, Any] | None,
) -> None:
    tenant_id = conn.execute(
        _FINISH,
        {
            "b_id": execution_id,
            "b_status": status,
            "b_finished_at": utcnow(),
            "b_failed_step": failed_step,
            "b_error_context": error_context,
        },
    ).scalar()
    if tenant_id is not None and status in FINAL:
        bump(conn, tenant_id, "kyra_executions_total", {"status": status}, 1)


def _steps(session: Session, execution_id: str) -> list[StepRun]:
    rows = session.scalars(
        select(StepRunRow)
        .where(StepRunRow.execution_id == execution_id)
        .order_by(StepRunRow.step_index)
    )
    return [
        StepRun(
            step_index=r.step_index,
            step_name=r.step_name,
            action=r.action,
            status=r.status,
            attempts=r.attempts,
            started_at=r.started_at,
            finished_at=r.finished_at,
            duration_ms=r.duration_ms,
            params=r.params,
            output=r.output,
            error=r.error,
            reused=r.reused,
        )
        for r in rows
    ]


def get_execution(
    store: Store, execution_id: str, *, tenant_id: str | None = None
) -> ExecutionInfo:
    """An execution with its steps; `execution_id` may be a unique prefix (≥ 6 chars)."""
    with store.session() as session:
        query = select(*_COLUMNS).join(WorkflowRow, WorkflowRow.id == ExecutionRow.workflow_id)
        if tenant_id is not None:
            query = query.where(ExecutionRow.tenant_id == tenant_id)
        if len(execution_id) >= 36:
            rows = session.execute(query.where(ExecutionRow.id == execution_id)).all()
        elif len(execution_id) >= 6:
            rows = session.execute(
                query.where(ExecutionRow.id.startswith(execution_id, autoescape=True)).limit(2)
            ).all()
        else:
            raise NotFoundError("give at least 6 characters of an execution id")
        if not rows:
            raise NotFoundError(f"no execution {execution_id!r}")
        if len(rows) > 1:
            raise NotFoundError(f"execution id prefix {execution_id!r} is ambiguous")
        row, name = rows[0]
        return _info(row, name, _steps(session, row.id))


def list_executions(
    store: Store,
    tenant_id: str,
    *,
    workflow_id: str | None = None,
    status: str | None = None,
    limit: int = 50,
    after_key: Key | None = None,
    payload: bool = True,
) -> list[ExecutionInfo]:
    """Newest first; `after_key` (from `execution_key`) starts after that row. Without
    `payload` the inputs and error contexts are not read (left empty): a list that shows
    neither, polled by clients while runs go on, costs a third as much."""
    columns = _LIST_COLUMNS if payload else _LIST_COLUMNS[:-2]
    query = (
        select(*columns)
        .join(WorkflowRow, WorkflowRow.id == ExecutionRow.workflow_id)
        .where(ExecutionRow.tenant_id == tenant_id)
    )
    if workflow_id is not None:
        query = query.where(ExecutionRow.workflow_id == workflow_id)
    if status is not None:
        query = query.where(ExecutionRow.status == status)
    order = [(ExecutionRow.created_at, True), (ExecutionRow.id, False)]
    query = after(query, order, after_key).limit(limit)
    with store.reader.connect() as conn:
        rows = conn.execute(query).all()
    return [_listed(row) for row in rows]


_LIST_COLUMNS = (
    ExecutionRow.id,
    ExecutionRow.tenant_id,
    ExecutionRow.workflow_id,
    WorkflowRow.name,
    ExecutionRow.status,
    ExecutionRow.trigger,
    ExecutionRow.config_version,
    ExecutionRow.resume_of,
    ExecutionRow.start_step,
    ExecutionRow.failed_step,
    ExecutionRow.run_at,
    ExecutionRow.created_at,
    ExecutionRow.started_at,
    ExecutionRow.finished_at,
    ExecutionRow.inputs,
    ExecutionRow.error_context,
)


def _listed(row: Any) -> ExecutionInfo:
    payload = len(row) == len(_LIST_COLUMNS)
    return ExecutionInfo(
        id=row[0],
        tenant_id=row[1],
        workflow_id=row[2],
        workflow_name=row[3],
        status=row[4],
        trigger=row[5],
        inputs=row[14] if payload else {},
        config_version=row[6],
        resume_of=row[7],
        start_step=row[8],
        failed_step=row[9],
        error_context=row[15] if payload else None,
        run_at=row[10],
        created_at=row[11],
        started_at=row[12],
        finished_at=row[13],
    )


def execution_key(info: ExecutionInfo) -> Key:
    """The sort key of `list_executions`."""
    return (info.created_at, info.id)


def recent_outcomes(
    store: Store, workflow_id: str, *, limit: int = 5, exclude: str | None = None
) -> list[dict[str, Any]]:
    """The last finished executions of a workflow, newest first (the spec's
    `previous_executions`)."""
    with store.session() as session:
        query = (
            select(
                ExecutionRow.id,
                ExecutionRow.status,
                ExecutionRow.failed_step,
                ExecutionRow.error_context,
                ExecutionRow.config_version,
                ExecutionRow.finished_at,
            )
            .where(
                ExecutionRow.workflow_id == workflow_id,
                ExecutionRow.status.in_(("succeeded", "failed")),
            )
            .order_by(ExecutionRow.finished_at.desc())
            .limit(limit + 1)
        )
        outcomes = []
        for eid, status, failed_step, ctx, version, finished in session.execute(query):
            if eid == exclude:
                continue
            outcomes.append(
                {
                    "execution_id": eid,
                    "status": status,
                    "failed_step": failed_step,
                    "error_type": (ctx or {}).get("error_type"),
                    "status_code": (ctx or {}).get("status_code"),
                    "config_version": version,
                    "finished_at": finished.isoformat() if finished else None,
                }
            )
        return outcomes[:limit]


def step_outputs(store: Store, execution_id: str) -> dict[str, Any]:
    """Outputs of the steps that succeeded in an execution, by step name."""
    with store.reader.connect() as conn:
        rows = conn.execute(
            select(StepRunRow.step_name, StepRunRow.output).where(
                StepRunRow.execution_id == execution_id, StepRunRow.status == "succeeded"
            )
        ).all()
    return {name: output for name, output in rows}


def recent_step_params(
    store: Store, workflow_id: str, step_name: str, *, limit: int = 5
) -> list[dict[str, Any]]:
    """Rendered (redacted) parameters of the step's latest successful runs, newest first:
    what healing learns "good values" from."""
    with store.reader.connect() as conn:
        rows = conn.execute(
            select(StepRunRow.params)
            .join(ExecutionRow, ExecutionRow.id == StepRunRow.execution_id)
            .where(
                ExecutionRow.workflow_id == workflow_id,
                StepRunRow.step_name == step_name,
                StepRunRow.status == "succeeded",
                StepRunRow.reused.is_(False),
            )
            .order_by(StepRunRow.finished_at.desc())
            .limit(limit)
        ).all()
    return [params for (params,) in rows if isinstance(params, dict)]


def _created_at(conn: Any, execution_id: str) -> datetime | None:
    return conn.execute(
        select(ExecutionRow.created_at).where(ExecutionRow.id == execution_id)
    ).scalar()


@dataclass(frozen=True)
class RunOutcome:
    """How one finished execution ended: what verification judges a fix by."""

    status: str
    failed_step: str | None = None
    error_context: dict[str, Any] | None = None


_OUTCOME_COLUMNS = (ExecutionRow.status, ExecutionRow.failed_step, ExecutionRow.error_context)


def outcomes_after(
    store: Store, workflow_id: str, execution_id: str, limit: int
) -> list[RunOutcome]:
    """The finished executions created after `execution_id`, oldest first."""
    with store.reader.connect() as conn:
        since = _created_at(conn, execution_id)
        if since is None:
            return []
        rows = conn.execute(
            select(*_OUTCOME_COLUMNS)
            .where(
                ExecutionRow.workflow_id == workflow_id,
                ExecutionRow.created_at > since,
                ExecutionRow.status.in_(("succeeded", "failed")),
            )
            .order_by(ExecutionRow.created_at)
            .limit(limit)
        ).all()
    return [RunOutcome(*row) for row in rows]


def outcomes_before(
    store: Store, workflow_id: str, execution_id: str, limit: int
) -> list[RunOutcome]:
    """The last finished executions strictly before `execution_id` (the failure that
    triggered a fix is not its own baseline), heal re-runs left out, newest first."""
    with store.reader.connect() as conn:
        until = _created_at(conn, execution_id)
        if until is None:
            return []
        rows = conn.execute(
            select(*_OUTCOME_COLUMNS)
            .where(
                ExecutionRow.workflow_id == workflow_id,
                ExecutionRow.created_at < until,
                ExecutionRow.id != execution_id,
                ExecutionRow.status.in_(("succeeded", "failed")),
                ExecutionRow.trigger != "heal",
            )
            .order_by(ExecutionRow.created_at.desc())
            .limit(limit)
        ).all()
    return [RunOutcome(*row) for row in rows]


def cancel_execution(store: Store, execution_id: str) -> bool:
    """Cancel an execution that has not started; False if it already runs or ran."""
    with store.engine.begin() as conn:
        tenant_id = conn.execute(
            update(ExecutionRow)
            .where(ExecutionRow.id == execution_id, ExecutionRow.status.in_(("queued", "waiting")))
            .values(status="cancelled", finished_at=utcnow())
            .returning(ExecutionRow.tenant_id)
        ).scalar()
        if tenant_id is None:
            return False
        bump(conn, tenant_id, "kyra_executions_total", {"status": "cancelled"}, 1)
        return True


@dataclass(frozen=True)
class Runnable:
    """What the executor needs to start a stored execution, read in one statement (the
    hot path): the execution, whether an earlier attempt recorded steps, and the
    workflow's versions (to tell whether a cached workflow record is still current)."""

    id: str
    workflow_id: str
    trigger: str
    inputs: dict[str, Any]
    start_step: int
    resume_of: str | None
    claims: int
    status: str
    config_version: int | None
    started: bool
    has_steps: bool
    workflow_config_version: int
    workflow_definition_version: int
    workflow_state: str
    workflow_state_reason: str
    resume_attempt: int = 0
    """A step parked in the database resumes at this attempt (0: none was parked)."""


_WORKFLOWS = WorkflowRow.__table__
_RUNNABLE = (
    select(
        _EXECUTIONS.c.id,
        _EXECUTIONS.c.workflow_id,
        _EXECUTIONS.c.trigger,
        _EXECUTIONS.c.inputs,
        _EXECUTIONS.c.start_step,
        _EXECUTIONS.c.resume_of,
        _EXECUTIONS.c.claims,
        _EXECUTIONS.c.status,
        _EXECUTIONS.c.config_version,
        _EXECUTIONS.c.started_at.is_not(None),
        select(_STEP_RUNS.c.id).where(_STEP_RUNS.c.execution_id == _EXECUTIONS.c.id).exists(),
        _WORKFLOWS.c.config_version,
        _WORKFLOWS.c.definition_version,
        _WORKFLOWS.c.state,
        _WORKFLOWS.c.state_reason,
        _EXECUTIONS.c.resume_attempt,
    )
    .join(_WORKFLOWS, _WORKFLOWS.c.id == _EXECUTIONS.c.workflow_id)
    .where(_EXECUTIONS.c.id == bindparam("b_id"))
)


def load_runnable(store: Store, execution_id: str) -> Runnable:
    with store.reader.connect() as conn:
        row = conn.execute(_RUNNABLE, {"b_id": execution_id}).first()
    if row is None:
        raise NotFoundError(f"no execution {execution_id!r}")
    return Runnable(*row)


def recorded_steps(store: Store, execution_id: str) -> list[StepRun]:
    """Steps an earlier, interrupted attempt of this execution already recorded."""
    with store.session() as session:
        return _steps(session, execution_id)


def park_execution(
    store: Store, execution_id: str, *, run_at: datetime, attempt: int, reason: str
) -> bool:
    """A running execution waits in the database until `run_at` (status `waiting`, no
    lease): its worker is free, a restart loses nothing, and the next claim resumes the
    step it was on at `attempt`. False if it was not running any more."""
    with store.engine.begin() as conn:
        result = conn.execute(
            update(_EXECUTIONS)
            .where(_EXECUTIONS.c.id == execution_id, _EXECUTIONS.c.status == "running")
            .values(
                status="waiting",
                run_at=run_at,
                resume_attempt=attempt,
                wait_reason=reason[:300],
                lease_owner=None,
                lease_until=None,
            )
        )
        return bool(result.rowcount)
