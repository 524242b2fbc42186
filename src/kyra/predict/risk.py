"""The "at risk" model: a warning that a workflow will likely fail, raised before it does.

A risk is identified by (tenant, workflow, kind, subject) and carries a reason (a key of
`kyra.predict.reasons.REASONS` plus parameters, rendered in the reader's language),
`since` (when this episode started), `updated_at` and `cleared_at`. `kyra status`, the
API (`GET /api/v1/risks`) and the Health Center's "At risk" panel list the active ones.

The whole API, for detectors (credential expiry, trends, incidents)::

    from kyra.predict.risk import Reason, raise_risk, clear_risk, active_risks

    new = raise_risk(kyra.store, tenant_id=t, workflow_id=w, kind="latency",
                     subject="fetch", reason=Reason("latency_p95", {"step": "fetch"}),
                     now=kyra.clock.now())
    if new:              # True once per episode, in one process only: announce it here
        announce(kyra, risk_of(...))   # optional: `kyra.predict.alerts`
    clear_risk(kyra.store, tenant_id=t, workflow_id=w, kind="latency",
               subject="fetch", now=kyra.clock.now())

* `raise_risk` opens the risk, or refreshes an active one (new reason and `updated_at`,
  same `since`); it returns True only when it opened a new episode. Call it as often as
  the condition holds; it is safe from any number of processes at once.
* `clear_risk` ends the active episode (`subject=None`: every subject of the kind);
  clearing what is not active does nothing. It returns how many it cleared.
* Parameters are names, hosts, dates and numbers; never put a secret's value in them
  (they are stored, shown and sent as they are).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kyra.i18n import Lang
from kyra.predict.reasons import render_reason
from kyra.store import risks as risk_store
from kyra.store.db import Store
from kyra.store.risks import RiskRecord

CREDENTIAL_EXPIRY = "credential_expiry"
"""A secret, token, key or TLS certificate a workflow depends on is about to expire."""
LATENCY = "latency"
"""A step's latency heads for its timeout (`kyra.predict.trends`)."""
ERROR_RATE = "error_rate"
"""A step's error rate is rising (`kyra.predict.trends`)."""

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_KEY = re.compile(r"^[a-z][a-z0-9_.]{0,99}$")
MAX_PARAM_CHARS = 300
MAX_SUBJECT_CHARS = 255

Param = str | int | float | bool | None


@dataclass(frozen=True)
class Reason:
    """Why: a key of `REASONS` and the values its sentence needs."""

    key: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(f"a reason key is a dotted lower-case name (got {self.key!r})")
        for name, value in self.params.items():
            if not isinstance(value, str | int | float | bool | None):
                raise ValueError(f"reason parameter {name!r} must be a scalar")
            if isinstance(value, str) and len(value) > MAX_PARAM_CHARS:
                raise ValueError(f"reason parameter {name!r} is longer than {MAX_PARAM_CHARS}")

    def text(self, lang: Lang = "en") -> str:
        return render_reason(self.key, self.params, lang)


@dataclass(frozen=True)
class Risk:
    tenant_id: str
    workflow_id: str
    workflow: str
    kind: str
    subject: str
    reason: Reason
    since: datetime
    updated_at: datetime
    cleared_at: datetime | None = None

    def to_json(self, lang: Lang = "en") -> dict[str, Any]:
        """The shape `kyra status --json` and the API share: `workflow`, `kind`,
        `reason` (a sentence in `lang`), `since`, plus the parts a program may want."""
        return {
            "workflow": self.workflow,
            "kind": self.kind,
            "subject": self.subject,
            "reason": self.reason.text(lang),
            "reason_key": self.reason.key,
            "reason_params": dict(self.reason.params),
            "since": self.since.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def _check(kind: str, subject: str | None) -> None:
    if not _KIND.match(kind):
        raise ValueError(f"a risk kind is a lower-case name of up to 40 characters ({kind!r})")
    if subject is not None and len(subject) > MAX_SUBJECT_CHARS:
        raise ValueError(f"a risk subject is at most {MAX_SUBJECT_CHARS} characters")


def raise_risk(
    store: Store,
    *,
    tenant_id: str,
    workflow_id: str,
    kind: str,
    reason: Reason,
    now: datetime,
    subject: str = "",
) -> bool:
    """Open or refresh a risk; True when this call opened a new episode."""
    _check(kind, subject)
    return risk_store.raise_risk(
        store,
        tenant_id=tenant_id,
        workflow_id=workflow_id,
        kind=kind,
        subject=subject,
        reason_key=reason.key,
        reason_params=dict(reason.params),
        now=now,
    )


def clear_risk(
    store: Store,
    *,
    tenant_id: str,
    workflow_id: str,
    kind: str,
    now: datetime,
    subject: str | None = None,
) -> int:
    """End the active risk (every subject of `kind` when `subject` is None)."""
    _check(kind, subject)
    return risk_store.clear_risk(
        store, tenant_id=tenant_id, workflow_id=workflow_id, kind=kind, subject=subject, now=now
    )


def active_risks(store: Store, tenant_id: str, *, workflow_id: str | None = None) -> list[Risk]:
    """The tenant's active risks (or one workflow's), oldest first."""
    return [_risk(r) for r in risk_store.list_risks(store, tenant_id, workflow_id=workflow_id)]


def _risk(r: RiskRecord) -> Risk:
    return Risk(
        tenant_id=r.tenant_id,
        workflow_id=r.workflow_id,
        workflow=r.workflow_name,
        kind=r.kind,
        subject=r.subject,
        reason=Reason(r.reason_key, r.reason_params),
        since=r.since,
        updated_at=r.updated_at,
        cleared_at=r.cleared_at,
    )
