"""The Health Center's data (`GET /api/v1/health`), shared with the dashboard page."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from kyra.api.auth import Auth, kyra_of
from kyra.api.figures import DayCount, MonthFigures, daily_series, month_figures
from kyra.app import Kyra
from kyra.engine.states import WorkflowState
from kyra.healing import gate
from kyra.healing.lifecycle import FixStatus
from kyra.store import api_stats
from kyra.store import healing as heal_store
from kyra.store import workflows as wf_store
from kyra.store.api import TenantSettings, tenant_settings
from kyra.store.healing import FixInfo
from kyra.store.workflows import WorkflowRecord

router = APIRouter(prefix="/api/v1", tags=["health"])


@dataclass(frozen=True)
class Snapshot:
    now: datetime
    settings: TenantSettings
    month: MonthFigures
    workflows: list[WorkflowRecord]
    states: dict[str, int]
    pending: list[FixInfo]
    recent: list[FixInfo]
    series: list[DayCount]
    kill_switch: bool


def snapshot(kyra: Kyra, tenant_id: str, days: int = 14) -> Snapshot:
    now = kyra.clock.now()
    since = gate.month_start(now)
    settings = tenant_settings(kyra.store, tenant_id)
    _, cost = heal_store.month_usage(kyra.store, tenant_id, since)
    month = month_figures(api_stats.repairs(kyra.store, tenant_id, since), cost, settings)
    window = now - timedelta(days=days)
    recoveries = [
        r.verified_at
        for r in api_stats.repairs(kyra.store, tenant_id, window)
        if r.verified_at is not None
    ]
    workflows = wf_store.list_workflows(kyra.store, tenant_id)
    fixes = heal_store.list_fixes(kyra.store, tenant_id, limit=50)
    return Snapshot(
        now=now,
        settings=settings,
        month=month,
        workflows=workflows,
        states=dict(Counter(w.state for w in workflows)),
        pending=[f for f in fixes if f.status == FixStatus.PROPOSED],
        recent=[f for f in fixes if f.status != FixStatus.PROPOSED][:8],
        series=daily_series(
            api_stats.failure_times(kyra.store, tenant_id, window), recoveries, now.date(), days
        ),
        kill_switch=heal_store.active_kill_switch(kyra.store, tenant_id) is not None,
    )


class MonthOut(BaseModel):
    auto_fixes: int
    verified: int
    mttr_seconds: float | None
    success_rate: float | None
    ai_cost: float
    prevented_value: float
    roi_percent: float
    downtime_value_per_hour: float
    manual_repair_hours: float


class RecentFixOut(BaseModel):
    id: str
    workflow: str
    error_class: str
    safety: str
    status: str
    outcome: str
    created_at: datetime


class DayOut(BaseModel):
    day: str
    failures: int
    recoveries: int


class HealthOut(BaseModel):
    generated_at: datetime
    month: MonthOut
    workflows_by_state: dict[str, int]
    pending_approvals: list[RecentFixOut]
    recent_fixes: list[RecentFixOut]
    series: list[DayOut]
    kill_switch: bool


def _recent(f: FixInfo) -> RecentFixOut:
    return RecentFixOut(
        id=f.id,
        workflow=f.workflow_name,
        error_class=f.error_class,
        safety=f.safety,
        status=f.status,
        outcome=f.outcome,
        created_at=f.created_at,
    )


@router.get("/health", response_model=HealthOut)
def get_health(request: Request, who: Auth, days: int = Query(14, ge=1, le=90)) -> HealthOut:
    """This month's figures (auto-fixes, MTTR, success rate, AI cost, prevented downtime
    value, ROI), workflows by state, pending approvals, recent fixes, daily series."""
    snap = snapshot(kyra_of(request), who.tenant_id, days)
    m = snap.month
    return HealthOut(
        generated_at=snap.now,
        month=MonthOut(
            auto_fixes=m.auto_fixes,
            verified=m.verified,
            mttr_seconds=m.mttr_seconds,
            success_rate=m.success_rate,
            ai_cost=m.ai_cost,
            prevented_value=m.prevented_value,
            roi_percent=round(m.roi_percent, 1),
            downtime_value_per_hour=snap.settings.downtime_value_per_hour,
            manual_repair_hours=snap.settings.manual_repair_hours,
        ),
        workflows_by_state={
            state.value: snap.states.get(state.value, 0) for state in WorkflowState
        },
        pending_approvals=[_recent(f) for f in snap.pending],
        recent_fixes=[_recent(f) for f in snap.recent],
        series=[
            DayOut(day=d.day.isoformat(), failures=d.failures, recoveries=d.recoveries)
            for d in snap.series
        ],
        kill_switch=snap.kill_switch,
    )
