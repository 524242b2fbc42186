"""Outcomes of a remedy on one host, across a tenant's workflows (cross-workflow
learning, `kyra.healing.learning`): one grouped query over the tenant's recent fixes.

Each fix keeps the host it called and its remedy in `diagnosis["learning"]`; the query
reads the tenant's fixes of one error class inside a window (the `(tenant_id,
created_at)` index bounds it), so its cost follows recent healing, never all history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from kyra.healing.lifecycle import FixOutcome, FixStatus
from kyra.store.db import Store
from kyra.store.healing_tables import FixRow

SETTLED = (
    FixStatus.APPLIED,
    FixStatus.APPROVED,
    FixStatus.FAILED,
    FixStatus.ROLLED_BACK,
    FixStatus.REJECTED,
)


@dataclass(frozen=True)
class Outcomes:
    worked: int = 0
    """Verified (the re-run succeeded) and kept."""
    failed: int = 0
    """The re-run failed again."""
    rolled_back: int = 0
    rejected: int = 0
    """A person said no to the proposal."""

    @property
    def total(self) -> int:
        return self.worked + self.failed + self.rolled_back + self.rejected


def remedy_outcomes(
    store: Store, tenant_id: str, error_class: str, host: str, remedy: str, since: datetime
) -> Outcomes:
    """What happened to the tenant's fixes of `error_class` by `remedy` on `host`."""
    learned = FixRow.diagnosis["learning"]
    query = (
        select(FixRow.status, FixRow.outcome, func.count())
        .where(
            FixRow.tenant_id == tenant_id,
            FixRow.created_at >= since,
            FixRow.error_class == error_class,
            FixRow.status.in_(SETTLED),
            learned["host"].as_string() == host,
            learned["remedy"].as_string() == remedy,
        )
        .group_by(FixRow.status, FixRow.outcome)
    )
    counts = {"worked": 0, "failed": 0, "rolled_back": 0, "rejected": 0}
    with store.reader.connect() as conn:
        for status, outcome, n in conn.execute(query):
            if status == FixStatus.ROLLED_BACK:
                counts["rolled_back"] += int(n)
            elif status == FixStatus.REJECTED:
                counts["rejected"] += int(n)
            elif status == FixStatus.FAILED or outcome == FixOutcome.FAILED:
                counts["failed"] += int(n)
            elif outcome == "succeeded":
                counts["worked"] += int(n)
    return Outcomes(**counts)
