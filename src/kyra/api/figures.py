"""The Health Center's numbers, computed from real records (formulas in docs/api.md).

MTTR            mean over verified fixes of (verified_at − failed execution finished_at)
success rate    verified fixes kept / fixes with a final outcome (succeeded or failed);
                a verified fix later rolled back counts as not kept
prevented value Σ over verified fixes of max(0, manual_repair_hours − repair time)
                × downtime_value_per_hour
ROI             (prevented value − AI cost) / max(AI cost, $0.01) × 100 %
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kyra.healing.lifecycle import SETTLED_OUTCOMES, FixOutcome, FixStatus
from kyra.store.api import TenantSettings
from kyra.store.api_stats import Repair

MIN_COST = 0.01


@dataclass(frozen=True)
class MonthFigures:
    auto_fixes: int
    """Repairs that changed a config this month (automatic, or approved by a person)."""
    verified: int
    mttr_seconds: float | None
    success_rate: float | None
    """0..1, None before any fix has a final outcome."""
    ai_cost: float
    prevented_value: float
    roi_percent: float


def repair_seconds(repair: Repair) -> float | None:
    if repair.verified_at is None or repair.failed_at is None:
        return None
    return max(0.0, (repair.verified_at - repair.failed_at).total_seconds())


def month_figures(repairs: list[Repair], ai_cost: float, settings: TenantSettings) -> MonthFigures:
    times = [s for s in (repair_seconds(r) for r in repairs) if s is not None]
    final = [r for r in repairs if r.outcome in SETTLED_OUTCOMES]
    kept = [
        r for r in final if r.outcome == FixOutcome.SUCCEEDED and r.status != FixStatus.ROLLED_BACK
    ]
    manual = settings.manual_repair_hours * 3600
    prevented = sum(
        max(0.0, manual - seconds) / 3600 * settings.downtime_value_per_hour for seconds in times
    )
    return MonthFigures(
        auto_fixes=len(repairs),
        verified=len(times),
        mttr_seconds=sum(times) / len(times) if times else None,
        success_rate=len(kept) / len(final) if final else None,
        ai_cost=ai_cost,
        prevented_value=round(prevented, 2),
        roi_percent=(prevented - ai_cost) / max(ai_cost, MIN_COST) * 100,
    )


@dataclass(frozen=True)
class DayCount:
    day: date
    failures: int
    recoveries: int


def daily_series(
    failures: list[datetime], recoveries: list[datetime], today: date, days: int = 14
) -> list[DayCount]:
    """Failures and verified recoveries per UTC day, oldest first, zero-filled."""
    f = Counter(at.date() for at in failures)
    r = Counter(at.date() for at in recoveries)
    first = today - timedelta(days=days - 1)
    return [DayCount(d, f[d], r[d]) for d in (first + timedelta(days=i) for i in range(days))]
