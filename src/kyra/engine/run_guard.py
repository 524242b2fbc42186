"""The guard one run's actions call around each request (`RunGuard`).

It asks the process's `FleetGuard` whether a request may go, sleeps short waits, raises
`WaitRequired` for long ones (the executor parks the execution and frees the worker) and
refuses waits beyond `KYRA_FLEET_MAX_WAIT_SECONDS` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kyra.engine.fleet import FleetGuard
from kyra.engine.pacing import Slot
from kyra.engine.scopes import Key, scope_of
from kyra.engine.waits import duration_text
from kyra.errors import StepError, WaitRequired


@dataclass
class RunGuard:
    """The `HostGuard` of one run (one per run: it holds the run's reserved slots): asks
    the fleet, sleeps short waits, raises `WaitRequired` for long ones, refuses waits
    beyond the cap."""

    fleet: FleetGuard
    tenant: str
    reserved: dict[Key, Slot] = field(default_factory=dict)
    _retry_slot: float | None = None

    def before_request(self, url: str) -> None:
        s = self.fleet.settings
        for _ in range(100):  # a short wait may be followed by another (a probe in flight)
            wait = self.fleet.acquire(self.tenant, url, self.reserved)
            if wait is None:
                return
            if wait.seconds > s.max_wait_seconds:
                self.reserved.clear()
                raise StepError(
                    f"{wait.target} ({wait.kind}: {wait.detail}): a wait of "
                    f"{duration_text(wait.seconds)} is longer than Kyra "
                    f"waits for an upstream (KYRA_FLEET_MAX_WAIT_SECONDS = "
                    f"{duration_text(s.max_wait_seconds)}); not waiting",
                    error_type="WaitTooLong",
                    provider=scope_of(url)[0],
                    retry_after=wait.seconds,
                    retryable=False,
                )
            if wait.seconds > s.sleep_seconds:
                raise WaitRequired(wait.seconds, wait.kind, wait.target, wait.detail)
            self.fleet.clock.sleep(wait.seconds)

    def after_response(self, url: str, status: int, headers: Mapping[str, str]) -> None:
        self.fleet.observe(self.tenant, url, status, headers, self.reserved)
        self._retry_slot = None
        if status == 429:
            key = self.fleet.key_of(self.tenant, url)
            slot = self.reserved.get(key) if key is not None else None
            if slot is not None:
                self._retry_slot = max(0.0, slot.at - self.fleet.clock.monotonic())

    def retry_slot(self) -> float | None:
        """Seconds until the slot taken for the retry of the last answer, a 429 on a paced
        scope: the pace, not a blind exponential backoff, says when the upstream will
        accept it (a retry that comes later than its slot leaves it empty and queues
        again); None when the last answer took no slot."""
        return self._retry_slot

    def after_transport_error(self, url: str, error_type: str) -> None:
        self.fleet.transport_error(self.tenant, url, error_type)
