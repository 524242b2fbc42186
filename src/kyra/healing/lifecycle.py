"""The words of a fix's life, as StrEnums: where a fix stands (`FixStatus`), what its
verification found (`FixOutcome`) and what an audit record says happened (`AuditKind`).

They are `str`s equal to the values stored in `fixes.status`, `fixes.outcome` and
`audit_log.kind` and shown by the API and the CLI, so rows written before read the same
and nothing is migrated; code compares against the members, so a misspelt state is an
AttributeError at import, not a comparison that is silently never true. Light on
purpose (no imports beyond `enum`): the store, the API, the CLI and the dashboard use it.
"""

from __future__ import annotations

from enum import StrEnum


class FixStatus(StrEnum):
    """`fixes.status`."""

    PROPOSED = "proposed"
    """YELLOW, or below the confidence threshold: waits for a person."""
    APPLIED = "applied"
    """Kyra changed the workflow's config (a new version)."""
    APPROVED = "approved"
    """A person approved the proposal; its change is applied."""
    REJECTED = "rejected"
    ROLLED_BACK = "rolled_back"
    BLOCKED = "blocked"
    """The gate refused it (kill switch, quota, cooldown, limits); `kyra fixes retry`."""
    FAILED = "failed"
    """Its change could not be made, or the re-run after it failed."""
    SUPERSEDED = "superseded"
    """A retry of a blocked fix, or a newer fix, took its place."""
    RETIRED = "retired"
    """`workflows apply --replace`: its patch no longer fits the new definition."""


IN_FORCE = frozenset({FixStatus.APPLIED, FixStatus.APPROVED})
"""The workflow's config carries the fix's patch."""
CHANGED = frozenset({FixStatus.APPLIED, FixStatus.APPROVED, FixStatus.ROLLED_BACK})
"""The fix changed the config at some point."""


class FixOutcome(StrEnum):
    """`fixes.outcome`: what the run after the fix said."""

    NONE = "none"
    """Nothing to verify (a proposal, a blocked fix) or not yet."""
    PENDING = "pending"
    """A re-run is scheduled, or the next runs are being watched."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"


SETTLED_OUTCOMES = frozenset({FixOutcome.SUCCEEDED, FixOutcome.FAILED})


class AuditKind(StrEnum):
    """`audit_log.kind`."""

    DIAGNOSIS = "diagnosis"
    FIX_APPLIED = "fix_applied"
    FIX_PROPOSED = "fix_proposed"
    FIX_FAILED = "fix_failed"
    FIX_REAPPLIED = "fix_reapplied"
    FIX_RETIRED = "fix_retired"
    FIX_RETRIED = "fix_retried"
    VERIFIED = "verified"
    APPROVED = "approved"
    REJECTED = "rejected"
    BLOCKED = "blocked"
    ROLLBACK = "rollback"
    ROLLBACK_SKIPPED = "rollback_skipped"
    NEEDS_ATTENTION = "needs_attention"
    NEW_ERROR = "new_error"
    RECOVERED = "recovered"
    HEALING_CRASHED = "healing_crashed"
    KILLSWITCH = "killswitch"
    RULES_APPLIED = "rules_applied"
    RULE_APPLIED = "rule_applied"
    PROACTIVE_BLOCKED = "proactive_blocked"
    PROACTIVE_SKIPPED = "proactive_skipped"


REMEDY_KINDS = frozenset({AuditKind.FIX_APPLIED, AuditKind.FIX_PROPOSED})
"""Audit records that carry a remedy (its summary, its patch)."""
