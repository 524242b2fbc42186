"""The scheduler: turns cron and interval triggers into queued executions, each slot once.

Slots are pure functions of the trigger and a time (`next_slot_after`,
`last_slot_at_or_before`), so tests pass `now` instead of waiting. Cron expressions are
evaluated in the trigger's time zone (croniter + zoneinfo, DST-aware); intervals are
aligned to the Unix epoch, so "every 30s" fires at :00 and :30 on every scheduler.

Firing happens in `kyra.store.schedules.fire_due`: one transaction locks the due schedule
rows, advances `next_fire_at` and inserts the executions and the fired-slot records
(unique per workflow and slot). Two schedulers started by mistake therefore never fire
the same slot: the second finds the rows locked or already advanced.

Slots up to `lookahead_seconds` ahead fire early, as executions runnable at their slot
(`run_at`): a burst of 10,000 triggers due at the same second is queued before it comes.

Missed slots (the process was down longer than `misfire_grace_seconds`) follow the
workflow's `catch_up` policy: `skip` drops them, `run_once` fires one execution for the
latest missed slot (trigger `catch_up`). A slot within the grace period is on time.

One workflow never stops the others: a trigger that cannot be scheduled (a definition
written before validation got stricter, or edited in the database: an unknown time
zone, a broken cron) is logged once and parked (`PARKED`, far in the future) until its
definition changes; an interval shorter than `KYRA_MIN_TRIGGER_INTERVAL_SECONDS` fires
at that minimum.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from kyra.clock import Clock
from kyra.runtime.settings import RuntimeSettings
from kyra.store import schedules
from kyra.store.db import Store
from kyra.store.schedules import DueSchedule, Fire, Fired, ScheduleSource
from kyra.workflows.model import Trigger, TriggerKind

log = logging.getLogger("kyra.runtime.scheduler")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TICK = timedelta(microseconds=1)
PARKED = datetime(9999, 1, 1, tzinfo=UTC)
"""`next_fire_at` of a schedule that cannot fire: never due, until its definition changes."""


def trigger_json(trigger: Trigger) -> str:
    """The stored form of a trigger: what the slot functions read."""
    data: dict[str, Any] = {"kind": trigger.kind.value, "catch_up": trigger.catch_up}
    if trigger.kind is TriggerKind.CRON:
        data.update(cron=trigger.cron, timezone=trigger.timezone)
    else:
        data["interval"] = trigger.interval
    return json.dumps(data, sort_keys=True)


def next_slot_after(trigger: dict[str, Any], t: datetime) -> datetime:
    """The first slot strictly after `t` (UTC)."""
    if trigger["kind"] == "cron":
        local = t.astimezone(ZoneInfo(trigger.get("timezone") or "UTC"))
        nxt: datetime = croniter(trigger["cron"], local).get_next(datetime)
        return nxt.astimezone(UTC)
    step = float(trigger["interval"])
    elapsed = (t - EPOCH).total_seconds()
    return EPOCH + timedelta(seconds=(math.floor(elapsed / step) + 1) * step)


def last_slot_at_or_before(trigger: dict[str, Any], t: datetime) -> datetime:
    """The latest slot at or before `t` (UTC)."""
    if trigger["kind"] == "cron":
        local = (t + TICK).astimezone(ZoneInfo(trigger.get("timezone") or "UTC"))
        prev: datetime = croniter(trigger["cron"], local).get_prev(datetime)
        return prev.astimezone(UTC)
    step = float(trigger["interval"])
    elapsed = (t - EPOCH).total_seconds()
    return EPOCH + timedelta(seconds=math.floor(elapsed / step) * step)


@lru_cache(maxsize=4096)
def _parse(trigger: str) -> dict[str, Any]:
    """Stored triggers repeat across ticks; parse each once (callers must not mutate)."""
    parsed: dict[str, Any] = json.loads(trigger)
    return parsed


MAX_SLOTS_PER_TICK = 100
"""Bound on on-time slots fired for one schedule in one tick (a 1 s trigger after a
long pause inside the grace period)."""


def decide(
    due: DueSchedule, now: datetime, grace: timedelta, lookahead: timedelta = timedelta(0)
) -> Fire:
    """Which slots of a due schedule to fire now, and when it is due next.

    Slots up to `now + lookahead` fire now, as executions that become runnable at their
    slot (`run_at`), so a burst of thousands of triggers is already queued when its
    instant comes. Slots within `grace` before now are on time and fire; older ones were
    missed: `skip` drops them, `run_once` fires once for the latest of them (trigger
    `catch_up`). An inactive workflow fires nothing, and its missed slots are not
    caught up later.
    """
    trigger = _parse(due.trigger)
    horizon = now + lookahead
    upcoming = next_slot_after(trigger, horizon)
    if due.state == "inactive":
        return Fire((), upcoming)
    kind = str(trigger["kind"])
    slots: list[tuple[datetime, str]] = []
    cutoff = now - grace
    slot = due.next_fire_at
    if slot < cutoff:
        missed = max(last_slot_at_or_before(trigger, cutoff - TICK), slot)
        if trigger.get("catch_up") == "run_once":
            slots.append((missed, "catch_up"))
        slot = next_slot_after(trigger, missed)
    while slot <= horizon and len(slots) < MAX_SLOTS_PER_TICK:
        slots.append((slot, kind))
        slot = next_slot_after(trigger, slot)
    return Fire(tuple(slots), max(upcoming, slot))


def runtime_id(kind: str) -> str:
    """A process identity for leases and heartbeats: kind, host, pid, random suffix."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


class Scheduler:
    """Fires due triggers. Call `tick()` periodically (the runtimes do, every
    `scheduler_tick_seconds`); it syncs schedules from workflow definitions when they
    change and fires everything due, batch by batch."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: RuntimeSettings,
        *,
        owner: str,
        on_fired: Callable[[list[Fired]], None] | None = None,
        min_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.owner = owner
        self._on_fired = on_fired
        self.min_interval = min_interval
        self._reported: set[str] = set()
        """Workflows whose stored schedule could not be used, logged once each."""
        self._mark: tuple[int, Any] | None = None
        self._synced_at = -math.inf
        self.fired_total = 0

    def sync(self) -> int:
        """(Re)compute schedules of cron/interval workflows that are new or changed."""
        now = self.clock.now()
        sources = schedules.schedules_to_sync(self.store)
        rows: list[tuple[ScheduleSource, str, datetime]] = []
        for source in sources:
            try:
                trigger = self._usable(Trigger.model_validate(source.trigger), source)
                stored = trigger_json(trigger)
                rows.append((source, stored, next_slot_after(json.loads(stored), now)))
            except Exception as exc:  # any bad definition: this workflow only, never the tick
                # Synced once per definition version, so this is logged once.
                log.warning(
                    "workflow %s has a trigger that cannot be scheduled (%s); not fired until "
                    "its definition changes",
                    source.workflow_id,
                    _reason(exc),
                )
                raw = json.dumps(source.trigger, default=str, sort_keys=True)
                rows.append((source, raw, PARKED))
        schedules.save_schedules(self.store, rows, now)
        self._synced_at = self.clock.monotonic()
        return len(rows)

    def _usable(self, trigger: Trigger, source: ScheduleSource) -> Trigger:
        interval = trigger.interval
        if trigger.kind is TriggerKind.INTERVAL and interval and interval < self.min_interval:
            log.warning(
                "workflow %s fires every %gs, below the minimum of %gs; fired every %gs",
                source.workflow_id,
                interval,
                self.min_interval,
                self.min_interval,
            )
            return trigger.model_copy(update={"interval": self.min_interval})
        return trigger

    def _decide(
        self, due: DueSchedule, now: datetime, grace: timedelta, lookahead: timedelta
    ) -> Fire:
        """`decide`, except that a schedule it cannot read is parked, not fatal."""
        try:
            return decide(due, now, grace, lookahead)
        except Exception as exc:  # one bad row must not stop every tenant's triggers
            if due.workflow_id not in self._reported:
                self._reported.add(due.workflow_id)
                log.warning(
                    "the schedule of workflow %s cannot be read (%s); parked until its "
                    "definition changes",
                    due.workflow_id,
                    _reason(exc),
                )
            return Fire((), PARKED)

    def _maybe_sync(self) -> None:
        mark = schedules.workflows_change_mark(self.store)
        stale = self.clock.monotonic() - self._synced_at >= self.settings.sync_seconds
        if mark != self._mark or stale:
            self.sync()
            self._mark = mark

    def tick(self) -> list[Fired]:
        """Sync if needed, then fire every due slot; returns what was fired."""
        self._maybe_sync()
        fired: list[Fired] = []
        grace = self.settings.misfire_grace
        lookahead = timedelta(seconds=self.settings.lookahead_seconds)
        limit = self.settings.fire_batch
        while True:
            now = self.clock.now()
            processed, batch = schedules.fire_due(
                self.store,
                now,
                lambda due, now=now: self._decide(due, now, grace, lookahead),  # type: ignore[misc]
                limit=limit,
                fired_by=self.owner,
                horizon=now + lookahead,
            )
            fired.extend(batch)
            if batch and self._on_fired is not None:
                self._on_fired(batch)
            if processed < limit:
                break
        self.fired_total += len(fired)
        return fired


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__
