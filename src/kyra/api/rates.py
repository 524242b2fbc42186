"""Learning-mode rates, from the counters kept on write (`store/metric_counts.py`): the
proposal rejection rate (spec phase 2 KPI: under 10 %) and the fix success rate per
error class. Computed from one row per counter series, so neither `/metrics` nor the
Health Center pays for history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from kyra.healing.lifecycle import SETTLED_OUTCOMES, FixStatus
from kyra.store.db import Store
from kyra.store.metric_counts import Count, counts

REJECTION_TARGET = 0.10
"""The spec's phase 2 success criterion: < 10 % of suggestions rejected."""


@dataclass(frozen=True)
class ClassRate:
    error_class: str
    succeeded: int = 0
    """Fix re-runs verified."""
    failed: int = 0
    """Fix re-runs that failed again."""
    rolled_back: int = 0
    """Verified fixes later rolled back (by a person or the watch)."""

    @property
    def settled(self) -> int:
        return self.succeeded + self.failed

    @property
    def ratio(self) -> float | None:
        """Fixes that worked and were kept, over fixes whose re-run finished."""
        if not self.settled:
            return None
        return max(0, self.succeeded - self.rolled_back) / self.settled


@dataclass(frozen=True)
class Rates:
    approved: int = 0
    rejected: int = 0
    classes: list[ClassRate] = field(default_factory=list)

    @property
    def rejection_ratio(self) -> float | None:
        """Rejected proposals over proposals a person decided on."""
        decided = self.approved + self.rejected
        return self.rejected / decided if decided else None


def rates_by_tenant(series: Iterable[Count]) -> dict[str, Rates]:
    """Tenant id → its rates, from `kyra_fixes_total` and `kyra_fix_verifications_total`."""
    decided: dict[str, dict[str, int]] = defaultdict(lambda: {"approved": 0, "rejected": 0})
    per_class: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: {"succeeded": 0, "failed": 0, "rolled_back": 0})
    )
    for c in series:
        cls = c.labels.get("error_class", "unknown")
        if c.name == "kyra_fixes_total":
            status = c.labels.get("status")
            if status in (FixStatus.APPROVED, FixStatus.REJECTED):
                decided[c.tenant_id][status] += int(c.value)
            elif status == FixStatus.ROLLED_BACK:
                per_class[c.tenant_id][cls]["rolled_back"] += int(c.value)
        elif c.name == "kyra_fix_verifications_total":
            outcome = c.labels.get("outcome")
            if outcome in SETTLED_OUTCOMES:
                per_class[c.tenant_id][cls][outcome] += int(c.value)
    return {
        tenant: Rates(
            approved=decided[tenant]["approved"],
            rejected=decided[tenant]["rejected"],
            classes=[ClassRate(cls, **n) for cls, n in sorted(per_class[tenant].items())],
        )
        for tenant in {*decided, *per_class}
    }


def tenant_rates(store: Store, tenant_id: str) -> Rates:
    """One tenant's rates (one read of its counter rows)."""
    return rates_by_tenant(counts(store, [tenant_id])).get(tenant_id, Rates())
