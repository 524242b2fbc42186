"""Per-host pacing and circuit breakers shared by a tenant's workflows and processes.

Every decision is one short transaction on a row per (tenant, host), so two workers (or
two `kyra` processes on the same SQLite file) see the same pacing and the same circuit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kyra.store.db import Store
from kyra.store.fleet_tables import CircuitRow, HostLimitRow

MIN_PACE_SECONDS = 0.05
"""Relaxing below this spacing stops pacing the host altogether."""


@dataclass(frozen=True)
class HostLimit:
    host: str
    pace_seconds: float
    next_allowed_at: float
    rate_limited: int
    reason: str


@dataclass(frozen=True)
class Circuit:
    host: str
    state: str
    failures: int
    retry_at: float
    probe_until: float
    openings: int


def host_limits(store: Store, tenant_id: str) -> dict[str, HostLimit]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(HostLimitRow).where(HostLimitRow.tenant_id == tenant_id))
        return {
            r.host: HostLimit(r.host, r.pace_seconds, r.next_allowed_at, r.rate_limited, r.reason)
            for r in rows
        }


def _ensure(store: Store, model: type, tenant_id: str, host: str, now: float) -> None:
    try:
        with store.session.begin() as session:
            if session.get(model, (tenant_id, host)) is None:
                session.add(model(tenant_id=tenant_id, host=host, updated_at=now))
    except IntegrityError:
        pass  # created by another process at the same moment


def reserve_slot(
    store: Store, tenant_id: str, host: str, now: float, *, relax_after: float = math.inf
) -> float:
    """Take the next request slot for a paced host; returns when it starts (≥ now).

    A host that has not rate-limited anyone for `relax_after` seconds is paced half as
    much (down to none), one step per quiet period: a 429 storm at 3 a.m. must not slow
    the tenant's workflows forever. Growth is fast, relaxation slow (as TCP does)."""
    with store.session.begin() as session:
        row = session.scalar(
            select(HostLimitRow)
            .where(HostLimitRow.tenant_id == tenant_id, HostLimitRow.host == host)
            .with_for_update()
        )
        if row is None:
            return now
        if row.pace_seconds > 0 and now - row.updated_at >= relax_after:
            quiet = now - row.updated_at
            half = row.pace_seconds / 2
            row.pace_seconds = half if half >= MIN_PACE_SECONDS else 0.0
            row.reason = f"relaxed to {row.pace_seconds:g} s after {quiet:.0f} s without a 429"
            row.updated_at = now
        start = max(row.next_allowed_at, now)
        row.next_allowed_at = start + row.pace_seconds
        return start


def learn_rate_limit(
    store: Store,
    tenant_id: str,
    host: str,
    now: float,
    *,
    retry_after: float | None,
    pace_hint: float | None,
    max_pace: float,
) -> HostLimit:
    """A 429 from `host`: everyone waits out its window, and the shared pacing grows
    (doubling, at least the rate the host announced, never above `max_pace`)."""
    _ensure(store, HostLimitRow, tenant_id, host, now)
    with store.session.begin() as session:
        row = session.scalar(
            select(HostLimitRow)
            .where(HostLimitRow.tenant_id == tenant_id, HostLimitRow.host == host)
            .with_for_update()
        )
        assert row is not None
        if pace_hint:  # the host said its rate: pace just under it, no guessing
            pace = max(row.pace_seconds, pace_hint * 1.1)
        elif now - row.updated_at >= max(row.pace_seconds, retry_after or 0.0, 1.0):
            # Double at most once per window: the 429s of requests that were already in
            # flight when the first one came back say nothing new.
            pace = max(row.pace_seconds * 2, 0.25)
        else:
            pace = max(row.pace_seconds, 0.25)
        row.pace_seconds = min(pace, max_pace)
        if retry_after:
            row.next_allowed_at = max(row.next_allowed_at, now + retry_after)
        row.rate_limited += 1
        row.reason = f"{row.rate_limited} rate-limit answers" + (
            f"; host announces one request per {pace_hint:g} s" if pace_hint else ""
        )
        row.updated_at = now
        return HostLimit(host, row.pace_seconds, row.next_allowed_at, row.rate_limited, row.reason)


def raise_pace(
    store: Store, tenant_id: str, host: str, pace: float, now: float, reason: str
) -> None:
    """A verified fix's request_delay becomes the host's starting pace for the tenant."""
    _ensure(store, HostLimitRow, tenant_id, host, now)
    with store.engine.begin() as conn:
        conn.execute(
            update(HostLimitRow)
            .where(
                HostLimitRow.tenant_id == tenant_id,
                HostLimitRow.host == host,
                HostLimitRow.pace_seconds < pace,
            )
            .values(pace_seconds=pace, reason=reason, updated_at=now)
        )


# -- circuit breaker ------------------------------------------------------------------------


def _circuit(row: CircuitRow) -> Circuit:
    return Circuit(row.host, row.state, row.failures, row.retry_at, row.probe_until, row.openings)


def circuits(store: Store, tenant_id: str | None = None) -> dict[tuple[str, str], Circuit]:
    query = select(CircuitRow)
    if tenant_id is not None:
        query = query.where(CircuitRow.tenant_id == tenant_id)
    with store.session() as session:
        return {(r.tenant_id, r.host): _circuit(r) for r in session.scalars(query)}


def _locked_circuit(session: Session, tenant_id: str, host: str) -> CircuitRow | None:
    return session.scalar(
        select(CircuitRow)
        .where(CircuitRow.tenant_id == tenant_id, CircuitRow.host == host)
        .with_for_update()
    )


def record_failure(
    store: Store,
    tenant_id: str,
    host: str,
    now: float,
    *,
    burst: int,
    window: float,
    cooldown: float,
) -> str | None:
    """Count a 5xx/connection failure; returns "opened" when this one opened the circuit
    (or re-opened it after a failed probe)."""
    _ensure(store, CircuitRow, tenant_id, host, now)
    with store.session.begin() as session:
        row = _locked_circuit(session, tenant_id, host)
        assert row is not None
        row.updated_at = now
        if row.state == "half_open":  # the probe failed: open again, wait longer
            row.state, row.opened_at = "open", now
            row.retry_at, row.probe_until = now + cooldown, 0.0
            row.openings += 1
            return "opened"
        if row.state == "open":
            return None
        if now - row.window_start > window:
            row.window_start, row.failures = now, 0
        row.failures += 1
        if row.failures >= burst:
            row.state, row.opened_at, row.retry_at = "open", now, now + cooldown
            row.openings += 1
            return "opened"
        return None


def record_success(store: Store, tenant_id: str, host: str, now: float) -> str | None:
    """A good answer: a half-open circuit closes ("closed"); failures reset."""
    with store.session.begin() as session:
        row = _locked_circuit(session, tenant_id, host)
        if row is None or (row.state == "closed" and row.failures == 0):
            return None
        closed = row.state != "closed"
        row.state, row.failures, row.probe_until, row.updated_at = "closed", 0, 0.0, now
        return "closed" if closed else None


def try_pass(store: Store, tenant_id: str, host: str, now: float, probe_seconds: float) -> float:
    """0 when a request may go now (closed, or this one is the half-open probe); otherwise
    the seconds to wait before asking again."""
    with store.session.begin() as session:
        row = _locked_circuit(session, tenant_id, host)
        if row is None or row.state == "closed":
            return 0.0
        if now < row.retry_at:
            return row.retry_at - now
        if row.state == "half_open" and now < row.probe_until:
            return row.probe_until - now  # someone else's probe is in flight
        row.state, row.probe_until, row.updated_at = "half_open", now + probe_seconds, now
        return 0.0
