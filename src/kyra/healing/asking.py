"""What a proposal asks of a person: the value it still needs and the candidates Kyra
found for it (kept in the proposal's audit record), for `kyra fixes show|approve`, the
API and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kyra.healing.candidates import value_needed
from kyra.healing.lifecycle import AuditKind, FixStatus
from kyra.store import healing as heal_store
from kyra.store.db import Store
from kyra.store.healing import FixInfo


@dataclass(frozen=True)
class Ask:
    value_needed: str | None
    """The field whose value only a person knows (None: the proposal is complete)."""
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"value_needed": self.value_needed, "candidates": self.candidates}


def ask_of(store: Store, fix: FixInfo) -> Ask:
    """The ask of a fix; only a proposal asks, and only the proposal's record is read."""
    if fix.status != FixStatus.PROPOSED:
        return Ask(None)
    candidates: list[dict[str, Any]] = []
    for record in heal_store.list_audit(store, fix.tenant_id, fix_id=fix.id, limit=20):
        if record.kind == AuditKind.FIX_PROPOSED:
            found = record.details.get("candidates")
            candidates = (
                [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []
            )
            break
    return Ask(value_needed(fix.patch), candidates)
