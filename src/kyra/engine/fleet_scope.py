"""What a process knows of one scope (`FleetScope`), and its row in the `fleet_scopes` table.

Processes pace and break in memory on the monotonic clock; the table holds wall times, so
`to_row` and `from_row` convert through the two functions the guard hands them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kyra.engine.breaker import Breaker, BreakerSettings, CircuitState
from kyra.engine.pacing import PaceBucket, PaceSettings
from kyra.engine.scopes import Key
from kyra.store.fleet import ScopeState

TEXT_LIMIT = 300
"""Characters of a reason kept in the table."""


@dataclass
class FleetScope:
    key: Key
    bucket: PaceBucket | None = None
    breaker: Breaker | None = None
    dirty: bool = False
    published: bool = False


def to_row(scope: FleetScope, to_wall: Callable[[float], float], now_wall: float) -> ScopeState:
    """The row that publishes `scope` (monotonic times turned into wall times)."""
    tenant, host, name = scope.key
    bucket, breaker = scope.bucket, scope.breaker
    return ScopeState(
        tenant_id=tenant,
        host=host,
        scope=name,
        rate=bucket.rate if bucket else None,
        source=bucket.source if bucket else "",
        reason=(bucket.reason if bucket else "")[:TEXT_LIMIT],
        blocked_until=to_wall(bucket.blocked_until) if bucket else 0.0,
        block_reason=(bucket.block_reason if bucket else "")[:TEXT_LIMIT],
        rate_limited=bucket.rate_limited if bucket else 0,
        circuit=str(breaker.state) if breaker else "closed",
        circuit_retry_at=to_wall(breaker.retry_at) if breaker else 0.0,
        circuit_reason=(breaker.reason if breaker else "")[:TEXT_LIMIT],
        openings=breaker.openings if breaker else 0,
        updated_at=now_wall,
    )


def from_row(
    key: Key,
    row: ScopeState,
    to_mono: Callable[[float], float],
    now: float,
    pace: PaceSettings,
    breaking: BreakerSettings,
) -> FleetScope:
    """A scope adopted from what another process published: its pacing (while it still
    holds) and its open circuit."""
    scope = FleetScope(key, published=True)
    blocked = to_mono(row.blocked_until)
    if row.rate or blocked > now:
        scope.bucket = PaceBucket(
            rate=row.rate,
            source=row.source,
            reason=row.reason,
            blocked_until=blocked if blocked > now else 0.0,
            block_reason=row.block_reason,
            rate_limited=row.rate_limited,
            last_429=now,
            settings=pace,
        )
    if row.circuit != CircuitState.CLOSED:
        scope.breaker = Breaker(
            state=CircuitState.OPEN,
            retry_at=to_mono(row.circuit_retry_at),
            reason=row.circuit_reason,
            openings=row.openings,
            settings=breaking,
        )
    return scope
