"""Fleet-wide upstream protection: what one workflow learns about a limit helps the others.

Keyed by tenant + host + *scope*, so what one tenant's traffic teaches never slows another
tenant, and a limit on one route never slows the host's other routes:

- a scope is the route family of the URL (`/v1/customers/*`: ids collapsed), or the
  provider's own name for its limiter once a response names one (`X-RateLimit-Resource:
  core`, `X-RateLimit-Bucket`, `RateLimit` policy names, `Stripe-Rate-Limited-Reason`);
  then every route that answered with that name shares one bucket;
- pacing (`pacing.PaceBucket`): the upstream's announced rate and quota first, else the
  rate it accepted; predictive waits for a spent quota; relaxes within seconds;
- circuit breaking (`breaker.Breaker`): opens on an outage, not on flakiness, and probes
  after Retry-After or 1, 2, 4 ... s.

Waits are bounded and never hold a worker for long: a wait up to `sleep_seconds` is
slept, a longer one raises `WaitRequired` (the executor parks the execution), and one
longer than `max_wait_seconds` fails the step with the reason instead of waiting
(an upstream cannot freeze a tenant with `Retry-After: 999999999`).

State lives in memory (the hot path is a dict lookup and a lock); every `sync_seconds`
each process publishes what changed to the `fleet_scopes` table (for `kyra status` and
the other processes) and forgets what `kyra fleet reset` deleted there.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping

from kyra.clock import Clock, SystemClock
from kyra.engine.breaker import Breaker, BreakerSettings, CircuitState
from kyra.engine.fleet_scope import FleetScope, from_row, to_row
from kyra.engine.fleet_settings import FleetSettings
from kyra.engine.pacing import PaceBucket, PaceSettings, Slot
from kyra.engine.ratelimit_headers import Quota, read_quota
from kyra.engine.scopes import Key, scope_of
from kyra.engine.waits import LATE_SLOT, Wait, recheck
from kyra.store import fleet as fleet_store
from kyra.store import healing as heal_store
from kyra.store.db import Store

log = logging.getLogger("kyra.fleet")

FAILURE_STATUSES = frozenset({502, 503, 504})
FAILURE_ERRORS = frozenset(
    {"ConnectError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError", "ReadError"}
)
_QUOTA_HEADER = re.compile(r"ratelimit|rate-limit|retry-after|api-call-limit")
_NO_QUOTA = Quota()
IDLE_SECONDS = 60.0
"""A scope that learned nothing and heard nothing for this long is dropped from memory."""
RECENT_SUCCESS = 60.0
"""Seconds before a failure in which a success still says the upstream was answering."""


class FleetGuard:
    """One per process. Thread-safe; every decision is taken under one lock."""

    def __init__(
        self,
        store: Store,
        clock: Clock | None = None,
        settings: FleetSettings | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.settings = settings or FleetSettings()
        s = self.settings
        self._pace = PaceSettings(
            increase=s.increase, relax_seconds=s.relax_seconds, max_block=s.max_wait_seconds
        )
        self._breaking = BreakerSettings(
            burst=s.burst,
            window=s.window_seconds,
            failure_ratio=s.failure_ratio,
            first_probe=s.first_probe_seconds,
            growth=s.probe_growth,
            max_open=s.cooldown_seconds,
            probe_timeout=s.probe_seconds,
        )
        self._lock = threading.Lock()
        self._scopes: dict[Key, FleetScope] = {}
        self._aliases: dict[Key, str] = {}  # (tenant, host, route) -> provider bucket scope
        self._tenants: set[str] = set()
        self._synced_at: dict[str, float] = {}

    # -- the clock: monotonic inside, wall time in the table ---------------------------

    def _mono(self) -> float:
        return self.clock.monotonic()

    def _to_wall(self, mono: float) -> float:
        if mono <= 0:
            return 0.0
        return self.clock.now().timestamp() + (mono - self._mono())

    def _to_mono(self, wall: float) -> float:
        if wall <= 0:
            return 0.0
        return self._mono() + (wall - self.clock.now().timestamp())

    # -- decisions ------------------------------------------------------------------------

    def _scope(self, tenant: str, host: str, route: str) -> FleetScope:
        """The scope a route belongs to (its provider bucket, once named), made on first use:
        even a scope that learned nothing counts its requests in flight."""
        scope = self._aliases.get((tenant, host, route), route)
        key = (tenant, host, scope)
        found = self._scopes.get(key)
        if found is None:
            found = self._scopes[key] = FleetScope(key)
            self._tenants.add(tenant)
        return found

    def acquire(self, tenant: str, url: str, reserved: dict[Key, Slot]) -> Wait | None:
        """None when a request to `url` may go now; else how long to wait and why. A wait
        on pacing reserves the slot (kept in `reserved` by the run's guard)."""
        if not self.settings.enabled:
            return None
        self._maybe_sync(tenant)
        host, route = scope_of(url)
        now = self._mono()
        with self._lock:
            # Even a scope with nothing learned counts its requests in flight: the first
            # answer's `Remaining` does not know about the requests sent beside it.
            scope = self._scope(tenant, host, route)
            label = f"{host} {scope.key[2]}"
            if scope.breaker is not None:
                wait = scope.breaker.wait(now)
                if wait > 0:
                    return Wait(wait, "circuit", label, scope.breaker.reason)
            if scope.bucket is None:
                scope.bucket = PaceBucket(settings=self._pace, changed_at=now)
            bucket = scope.bucket
            slot = reserved.pop(scope.key, None)
            if slot is not None and bucket.blocked_until <= now:
                due = bucket.when(slot)
                if due > now + 0.001:
                    reserved[scope.key] = slot
                    return Wait(recheck(slot, due - now), "pacing", label, bucket.reason)
                if now - due <= LATE_SLOT:
                    return None  # the slot this run waited for
                # Came back long after its slot (a longer backoff, a busy pool): the line
                # went on meanwhile, so going now would add a request to a later slot's.
            held = bucket.awaiting_answer(now)
            if held is not None:
                return Wait(held - now, "quota", label, bucket.block_reason)
            bucket.last_wait_kind = "pacing"
            slot = bucket.take(now)
            start = slot.at
            if start <= now + 0.001:
                return None
            reserved[scope.key] = slot
            if start >= bucket.blocked_until > now:
                return Wait(start - now, "retry_after", label, bucket.block_reason)
            if bucket.last_wait_kind == "quota":
                return Wait(start - now, "quota", label, bucket.block_reason)
            return Wait(recheck(slot, start - now), "pacing", label, bucket.reason)

    def observe(
        self,
        tenant: str,
        url: str,
        status: int,
        headers: Mapping[str, str],
        reserved: dict[Key, Slot] | None = None,
    ) -> None:
        """Learn from an answer: quota headers, 429s, 5xx, successes. A 429 also takes the
        retry's slot now (in `reserved`): the request keeps its place in line instead of
        queueing behind every run that reached the limit after it."""
        if not self.settings.enabled:
            return
        informative = status == 429 or any(_QUOTA_HEADER.search(k) for k in headers)
        failure = status in FAILURE_STATUSES
        host, route = scope_of(url)
        quota = read_quota(headers, time.time()) if informative or failure else _NO_QUOTA
        with self._lock:
            # Every answered scope keeps its recent successes: the first 429 then knows
            # the rate the upstream accepted until then.
            scope = self._scope(tenant, host, route)
            now = self._mono()
            if quota.bucket:
                scope = self._alias(tenant, host, route, f"bucket:{quota.bucket}", scope)
            if scope.bucket is None:
                scope.bucket = PaceBucket(settings=self._pace, changed_at=now)
            rate = scope.bucket.rate
            if scope.bucket.observe(now, status, quota):
                scope.dirty = True
                if status == 429 and scope.bucket.rate != rate:  # a cut: at most 2 a second
                    log.info("pacing %s %s: %s", host, scope.key[2], scope.bucket.reason)
            if status == 429 and reserved is not None and scope.bucket.rate:
                due = now + (quota.retry_after or 0.0)
                reserved[scope.key] = scope.bucket.take(now, at=due)
            if failure:
                self._failure(scope, now, f"HTTP {status}", quota.retry_after)
            elif scope.breaker is not None and status < 500:
                self._success(scope, now)

    def key_of(self, tenant: str, url: str) -> Key | None:
        """The key of the scope a request to `url` counts against (None when unknown)."""
        host, route = scope_of(url)
        with self._lock:
            scope = self._aliases.get((tenant, host, route), route)
            key = (tenant, host, scope)
            return key if key in self._scopes else None

    def recovered_since(self, tenant: str, url: str, when: float) -> bool:
        """True when `url`'s scope has its circuit closed and this process saw it answer
        well within `RECENT_SUCCESS` seconds before `when` (wall seconds) or since. A step
        that spent its retries while the circuit stayed closed failed among good answers:
        a blip, not an outage (an outage opens the circuit: five failures in a row), so a
        re-run need not wait as if the upstream were down. False when this process knows
        nothing of it (no traffic here)."""
        host, route = scope_of(url)
        since = self._to_mono(when) - RECENT_SUCCESS
        with self._lock:
            key = (tenant, host, self._aliases.get((tenant, host, route), route))
            scope = self._scopes.get(key)
            if scope is None or scope.bucket is None or not scope.bucket.accepted:
                return False
            if scope.breaker is not None and scope.breaker.state is not CircuitState.CLOSED:
                return False
            return scope.bucket.accepted[-1] > since

    def transport_error(self, tenant: str, url: str, error_type: str) -> None:
        if not self.settings.enabled or error_type not in FAILURE_ERRORS:
            return
        host, route = scope_of(url)
        with self._lock:
            scope = self._scope(tenant, host, route)
            self._failure(scope, self._mono(), error_type, None)

    def _alias(
        self, tenant: str, host: str, route: str, name: str, scope: FleetScope
    ) -> FleetScope:
        """A response named its limiter: this route shares that limiter's bucket."""
        if scope.key[2] == name:
            return scope
        self._aliases[(tenant, host, route)] = name
        key = (tenant, host, name)
        target = self._scopes.get(key)
        if target is None:
            target = self._scopes[key] = FleetScope(key, bucket=scope.bucket)
        if scope.bucket is target.bucket:
            scope.bucket = None
        return target

    def _failure(self, scope: FleetScope, now: float, what: str, retry_after: float | None) -> None:
        if scope.breaker is None:
            scope.breaker = Breaker(settings=self._breaking)
        if scope.breaker.failure(now, what, retry_after):
            scope.dirty = True
            tenant, host, name = scope.key
            # INFO, not WARNING: healed without anyone (the audit trail keeps it), and
            # `kyra run` shows the run's own waits in the reader's language.
            log.info("circuit open for %s %s: %s", host, name, scope.breaker.reason)
            self._audit(
                tenant,
                "circuit_opened",
                host,
                name,
                f"circuit opened for {host} {name}: {scope.breaker.reason}",
            )

    def _success(self, scope: FleetScope, now: float) -> None:
        assert scope.breaker is not None
        if scope.breaker.success(now):
            scope.dirty = True
            tenant, host, name = scope.key
            log.info("circuit closed for %s %s", host, name)
            self._audit(
                tenant,
                "circuit_closed",
                host,
                name,
                f"circuit closed for {host} {name}: the probe succeeded",
            )

    def _audit(self, tenant: str, kind: str, host: str, scope: str, summary: str) -> None:
        try:
            heal_store.add_audit(
                self.store,
                kind=kind,
                actor="kyra",
                tenant_id=tenant,
                summary=summary,
                details={"host": host, "scope": scope},
            )
        except Exception:  # the audit trail must never break a request
            log.exception("could not record %s for %s", kind, host)

    # -- sharing with people and other processes -------------------------------------------

    def _maybe_sync(self, tenant: str) -> None:
        now = self._mono()
        last = self._synced_at.get(tenant)
        if last is not None and now - last < self.settings.sync_seconds:
            return
        self._synced_at[tenant] = now
        if last is None and tenant not in self._tenants:
            self._adopt(tenant)  # first sight of this tenant: what others learned
            return
        try:
            self.sync(tenant)
        except Exception:
            log.exception("could not share fleet state; keeping it in memory")

    def sync(self, tenant: str) -> None:
        """Publish changed scopes; forget scopes a reset deleted from the table."""
        stored = {(s.host, s.scope) for s in fleet_store.scopes(self.store, tenant)}
        now = self._mono()
        now_wall = self.clock.now().timestamp()
        with self._lock:
            states = []
            for key, scope in list(self._scopes.items()):
                if key[0] != tenant:
                    continue
                if scope.published and (key[1], key[2]) not in stored:
                    self._forget(key)  # `kyra fleet reset`, or a rolled-back fix
                    continue
                if (
                    not scope.dirty
                    and not scope.published
                    and scope.breaker is None
                    and (scope.bucket is None or scope.bucket.idle(now, IDLE_SECONDS))
                ):
                    self._forget(key)  # a route that taught nothing: keep memory flat
                if scope.dirty:
                    states.append(to_row(scope, self._to_wall, now_wall))
                    scope.dirty, scope.published = False, True
        fleet_store.save_scopes(self.store, states)

    def _adopt(self, tenant: str) -> None:
        try:
            rows = fleet_store.scopes(self.store, tenant)
        except Exception:
            log.exception("could not read fleet state")
            return
        now = self._mono()
        with self._lock:
            self._tenants.add(tenant)
            for row in rows:
                key = (tenant, row.host, row.scope)
                if key in self._scopes:
                    continue
                self._scopes[key] = from_row(
                    key, row, self._to_mono, now, self._pace, self._breaking
                )

    def _forget(self, key: Key) -> None:
        self._scopes.pop(key, None)
        for alias, name in list(self._aliases.items()):
            if alias[:2] == key[:2] and name == key[2]:
                del self._aliases[alias]

    def reset(self, tenant: str, host: str | None = None) -> int:
        """Forget what was learned (this process and the table); returns scopes cleared."""
        with self._lock:
            for key in [k for k in self._scopes if k[0] == tenant and host in (None, k[1])]:
                self._forget(key)
        return fleet_store.reset(self.store, tenant, host)
