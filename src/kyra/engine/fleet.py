"""Fleet-wide host protection: what one workflow learns about a host helps the others.

- Shared pacing: a 429 (with `Retry-After` / `X-RateLimit-*`) makes every workflow of the
  tenant wait out the window and then space its requests to that host; a verified
  rate-limit fix's delay becomes the host's starting pace. Persisted, so it survives
  restarts and is shared by every process on the same database. Each quiet period
  (`relax_seconds` without a 429) halves it, down to none.
- Circuit breaker: a burst of 5xx/connection failures across workflows opens the host's
  circuit; requests then fail fast (`CircuitOpen`, retryable, with the wait as
  `retry_after`) instead of hammering it, until one probe is let through; its success
  closes the circuit.

Hosts with no learned state cost nothing: their check is an in-memory lookup.
"""

from __future__ import annotations

import email.utils
import logging
import threading
from collections.abc import Mapping

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from kyra.clock import Clock, SystemClock
from kyra.errors import TransportError
from kyra.store import fleet as fleet_store
from kyra.store import healing as heal_store
from kyra.store.db import Store
from kyra.store.fleet import Circuit, HostLimit

log = logging.getLogger("kyra.fleet")

FAILURE_STATUSES = frozenset({502, 503, 504})
FAILURE_ERRORS = frozenset(
    {"ConnectError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError", "ReadError"}
)


class FleetSettings(BaseSettings):
    """`KYRA_FLEET_*`: the circuit breaker's burst and timings, the pacing cap."""

    model_config = SettingsConfigDict(env_prefix="KYRA_FLEET_", extra="ignore")

    enabled: bool = True
    burst: int = Field(default=5, ge=1)
    """Failures within `window_seconds` (across workflows) that open a host's circuit."""
    window_seconds: float = Field(default=30.0, gt=0)
    cooldown_seconds: float = Field(default=30.0, ge=0)
    """How long an open circuit waits before letting one probe through."""
    probe_seconds: float = Field(default=30.0, gt=0)
    """How long a probe may take before another one may go."""
    max_pace_seconds: float = Field(default=60.0, gt=0)
    relax_seconds: float = Field(default=600.0, gt=0)
    """A paced host that rate-limits nobody for this long is paced half as much (down
    to none, one halving per quiet period)."""
    cache_seconds: float = Field(default=1.0, ge=0)


class _TenantGuard:
    """The HostGuard handed to actions for one tenant's runs."""

    def __init__(self, fleet: FleetGuard, tenant_id: str) -> None:
        self._fleet = fleet
        self._tenant = tenant_id

    def before_request(self, host: str) -> None:
        self._fleet.before_request(self._tenant, host)

    def after_response(self, host: str, status: int, headers: Mapping[str, str]) -> None:
        self._fleet.after_response(self._tenant, host, status, headers)

    def after_transport_error(self, host: str, error_type: str) -> None:
        self._fleet.after_transport_error(self._tenant, host, error_type)


class FleetGuard:
    """One per process; caches each tenant's per-host state for `cache_seconds`."""

    def __init__(
        self,
        store: Store,
        clock: Clock | None = None,
        settings: FleetSettings | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.settings = settings or FleetSettings()
        self._lock = threading.Lock()
        self._limits: dict[str, tuple[float, dict[str, HostLimit]]] = {}
        self._circuits: dict[str, tuple[float, dict[str, Circuit]]] = {}

    def _wall(self) -> float:
        return self.clock.now().timestamp()

    def for_tenant(self, tenant_id: str) -> _TenantGuard:
        return _TenantGuard(self, tenant_id)

    # -- caches ---------------------------------------------------------------------------

    def _cached_limits(self, tenant: str) -> dict[str, HostLimit]:
        now = self._wall()
        with self._lock:
            entry = self._limits.get(tenant)
        if entry is None or now - entry[0] > self.settings.cache_seconds:
            entry = (now, fleet_store.host_limits(self.store, tenant))
            with self._lock:
                self._limits[tenant] = entry
        return entry[1]

    def _cached_circuits(self, tenant: str) -> dict[str, Circuit]:
        now = self._wall()
        with self._lock:
            entry = self._circuits.get(tenant)
        if entry is None or now - entry[0] > self.settings.cache_seconds:
            rows = fleet_store.circuits(self.store, tenant)
            entry = (now, {host: c for (_, host), c in rows.items()})
            with self._lock:
                self._circuits[tenant] = entry
        return entry[1]

    def _forget(self, tenant: str) -> None:
        with self._lock:
            self._limits.pop(tenant, None)
            self._circuits.pop(tenant, None)

    # -- the guard ------------------------------------------------------------------------

    def before_request(self, tenant: str, host: str) -> None:
        if not self.settings.enabled or not host:
            return
        circuit = self._cached_circuits(tenant).get(host)
        if circuit is not None and circuit.state != "closed":
            wait = fleet_store.try_pass(
                self.store, tenant, host, self._wall(), self.settings.probe_seconds
            )
            self._forget(tenant)
            if wait > 0:
                raise TransportError(
                    f"circuit open for {host}: it failed repeatedly across workflows; "
                    f"waiting {wait:.1f} s for a probe to succeed",
                    error_type="CircuitOpen",
                    provider=host,
                    retry_after=wait,
                    retryable=True,
                )
        limit = self._cached_limits(tenant).get(host)
        if limit is None:
            return
        now = self._wall()
        if limit.pace_seconds <= 0 and limit.next_allowed_at <= now:
            return
        start = fleet_store.reserve_slot(
            self.store, tenant, host, now, relax_after=self.settings.relax_seconds
        )
        if start > now:
            self.clock.sleep(start - now)

    def after_response(
        self, tenant: str, host: str, status: int, headers: Mapping[str, str]
    ) -> None:
        if not self.settings.enabled or not host:
            return
        if status == 429:
            self._learn(tenant, host, headers)
        elif status in FAILURE_STATUSES:
            self._failure(tenant, host, f"HTTP {status}")
        elif host in self._cached_circuits(tenant):
            self._success(tenant, host)

    def after_transport_error(self, tenant: str, host: str, error_type: str) -> None:
        if self.settings.enabled and host and error_type in FAILURE_ERRORS:
            self._failure(tenant, host, error_type)

    # -- learning -------------------------------------------------------------------------

    def _learn(self, tenant: str, host: str, headers: Mapping[str, str]) -> None:
        now = self._wall()
        retry_after, hint = _rate_hints(headers, now)
        limit = fleet_store.learn_rate_limit(
            self.store,
            tenant,
            host,
            now,
            retry_after=retry_after,
            pace_hint=hint,
            max_pace=self.settings.max_pace_seconds,
        )
        self._forget(tenant)
        log.info("learned pacing for %s: %.2f s (%s)", host, limit.pace_seconds, limit.reason)

    def _failure(self, tenant: str, host: str, what: str) -> None:
        s = self.settings
        change = fleet_store.record_failure(
            self.store,
            tenant,
            host,
            self._wall(),
            burst=s.burst,
            window=s.window_seconds,
            cooldown=s.cooldown_seconds,
        )
        self._forget(tenant)
        if change == "opened":
            heal_store.add_audit(
                self.store,
                kind="circuit_opened",
                actor="kyra",
                tenant_id=tenant,
                summary=f"circuit opened for {host} after repeated failures ({what}); "
                f"one probe in {s.cooldown_seconds:g} s",
                details={"host": host},
            )

    def _success(self, tenant: str, host: str) -> None:
        if fleet_store.record_success(self.store, tenant, host, self._wall()) == "closed":
            heal_store.add_audit(
                self.store,
                kind="circuit_closed",
                actor="kyra",
                tenant_id=tenant,
                summary=f"circuit closed for {host}: the probe succeeded",
                details={"host": host},
            )
        self._forget(tenant)


def _rate_hints(headers: Mapping[str, str], now: float) -> tuple[float | None, float | None]:
    """(seconds to wait, seconds per request) from Retry-After and X-RateLimit-*."""
    lowered = {k.lower(): v for k, v in headers.items()}
    retry_after = _seconds(lowered.get("retry-after"), now)
    limit = _float(lowered.get("x-ratelimit-limit") or lowered.get("ratelimit-limit"))
    reset = _float(lowered.get("x-ratelimit-reset") or lowered.get("ratelimit-reset"))
    hint = None
    if limit and limit > 0 and reset is not None:
        window = reset - now if reset > 1e9 else reset  # epoch or seconds-from-now
        if 0 < window <= 3600:
            hint = window / limit
    return retry_after, hint


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _seconds(value: str | None, now: float) -> float | None:
    number = _float(value)
    if number is not None:
        return max(number, 0.0)
    if value:
        parsed = email.utils.parsedate_to_datetime(value) if "," in value else None
        if parsed is not None:
            return max(parsed.timestamp() - now, 0.0)
    return None
