"""A circuit breaker for one upstream scope, with an open time that fits the outage.

closed → open after `burst` failures in a row, or when, within `window` seconds, at least
2 × `burst` calls were made and `failure_ratio` of them failed. A steady 20 % of 503s is
flakiness that retries fix, not an outage: five in a row happen with odds of 1 in 3,000.
An open circuit waits the upstream's `Retry-After` when it gave one,
else `first_probe` seconds, growing by `growth` after each failed probe up to `max_open`
(0.5, 0.6, 0.8, 1, 1.2, 1.5 ... 30 s: a brown-out of N seconds costs about 1.25 N, where
doubling from 1 s costs up to 2 N; a long outage still gets only ~2 probes a minute). Then
one call goes through (half-open); its success closes the circuit, its failure opens it
again. Times are the monotonic clock's seconds; the fleet guard holds the lock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class BreakerSettings:
    burst: int = 5
    window: float = 30.0
    failure_ratio: float = 0.5
    first_probe: float = 0.5
    growth: float = 1.25
    max_open: float = 30.0
    probe_timeout: float = 30.0
    """A probe that has not answered after this long no longer blocks another one."""


@dataclass
class Breaker:
    state: CircuitState = CircuitState.CLOSED
    retry_at: float = 0.0
    probe_until: float = 0.0
    failed_probes: int = 0
    in_a_row: int = 0
    openings: int = 0
    reason: str = ""
    changed_at: float = 0.0
    outcomes: deque[tuple[float, bool]] = field(default_factory=lambda: deque(maxlen=64))
    settings: BreakerSettings = field(default_factory=BreakerSettings)

    def wait(self, now: float) -> float:
        """0 when a call may go now (closed, or it becomes the half-open probe);
        otherwise seconds until it should ask again."""
        if self.state is CircuitState.CLOSED:
            return 0.0
        if self.state is CircuitState.OPEN:
            if now < self.retry_at:
                return self.retry_at - now
            self.state, self.probe_until = CircuitState.HALF_OPEN, now + self.settings.probe_timeout
            return 0.0
        if now < self.probe_until:  # someone else's probe is in flight
            return min(self.probe_until - now, 0.1)
        self.probe_until = now + self.settings.probe_timeout
        return 0.0

    def success(self, now: float) -> bool:
        """True when this closed the circuit."""
        self.outcomes.append((now, True))
        self.in_a_row = 0
        if self.state is CircuitState.CLOSED:
            return False
        self.state, self.failed_probes, self.probe_until = CircuitState.CLOSED, 0, 0.0
        self.outcomes.clear()
        self.reason = "the probe succeeded"
        self.changed_at = now
        return True

    def failure(self, now: float, what: str, retry_after: float | None = None) -> bool:
        """True when this opened (or re-opened) the circuit."""
        s = self.settings
        self.outcomes.append((now, False))
        self.in_a_row += 1
        if self.state is CircuitState.HALF_OPEN:
            self.failed_probes += 1
            return self._open(now, what, retry_after)
        if self.state is CircuitState.OPEN:
            return False
        if self.in_a_row >= s.burst:
            return self._open(now, f"{what} ({self.in_a_row} failures in a row)", retry_after)
        recent = [ok for t, ok in self.outcomes if t > now - s.window]
        failures = recent.count(False)
        if len(recent) >= 2 * s.burst and failures >= s.failure_ratio * len(recent):
            share = f"{failures} of the last {len(recent)} calls failed"
            return self._open(now, f"{what} ({share})", retry_after)
        return False

    def _open(self, now: float, what: str, retry_after: float | None) -> bool:
        s = self.settings
        wait = s.first_probe * s.growth**self.failed_probes
        if retry_after is not None and retry_after > 0:
            wait = retry_after
        wait = min(wait, s.max_open)
        self.state, self.retry_at, self.probe_until = CircuitState.OPEN, now + wait, 0.0
        self.openings += 1
        self.reason = f"{what}; next probe in {wait:g} s"
        self.changed_at = now
        return True
