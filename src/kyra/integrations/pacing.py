"""Learned pacing: what one caller learned about an endpoint, every caller in the process obeys.

Retrying each call on its own is what makes a rate limit or an outage expensive: eight
threads that all meet the same 429 send eight more requests, and keep sending new first
attempts while the provider has asked everyone to wait. A `Pacer` keeps one gate a key
(an endpoint, a provider: whatever the caller names):

- a GREEN failure with a Retry-After closes the key's gate for that long;
- a GREEN failure without one makes the next caller a probe, the others waiting for its
  answer (one round trip: a lone failure costs them nothing more); when `OUTAGE_STREAK`
  failures follow each other with no success between them (an outage, not the odd failed
  call), the gate closes for the failing caller's own backoff, but never longer than the
  gate's own probe interval (`PROBE_BASE_SECONDS`, doubling with each failed probe): a
  caller on its fifth retry must not hold every other caller for its 16 s;
- when the gate opens, one caller goes first (the probe): a success opens the gate for
  all, a failure closes it again.

So during an outage one probe a backoff period reaches the provider, not one a thread,
and after a 429 nobody sends before the announced time. YELLOW, RED and unknown failures
say nothing about the endpoint and leave the gate alone. Threads only (one process): for
Celery, run the worker with `--pool threads` to share it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

PROBE_TIMEOUT_SECONDS = 60.0
"""A probe that never reports back (its thread died) stops holding the others after this."""
OUTAGE_STREAK = 3
"""Failures in a row (the first, then two failed probes) that make a key an outage. Two in
a row happen by chance at a 20 % failure rate about one time in 25; three, one in 125."""
PROBE_BASE_SECONDS = 0.25
PROBE_MAX_SECONDS = 8.0
PROBE_POLL_SECONDS = 0.05
"""While a probe is out, how soon a caller that may not block asks again (it is woken at
once when the probe reports, if it blocks)."""


@dataclass
class _Gate:
    until: float = 0.0
    streak: int = 0
    probing: bool = False
    probe_started: float = 0.0


class Pacer:
    """Per-key gates shared by every caller of this process (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._gates: dict[Hashable, _Gate] = {}
        self._changed = threading.Condition()

    def before(self, key: Hashable, timeout: float | None = None) -> float | None:
        """Block until this caller may send on `key`; returns the seconds it waited, or
        None when `timeout` passed first (the caller is then not admitted)."""
        started = self._clock()
        with self._changed:
            while True:
                wait = self._admit(key)
                if wait <= 0:
                    return self._clock() - started
                if timeout is not None:
                    left = started + timeout - self._clock()
                    if left <= 0:
                        return None
                    wait = min(wait, left)
                self._changed.wait(wait)

    def admit(self, key: Hashable) -> float:
        """0 when this caller may send on `key` now (as the probe, if the key is failing),
        else the seconds to wait before asking again (without waiting)."""
        with self._changed:
            return self._admit(key)

    def closed_for(self, key: Hashable) -> float:
        """Seconds until a caller may ask again (0: the gate is open or lets a probe
        through now); unlike `admit`, never makes the asker the probe."""
        with self._changed:
            gate = self._gates.get(key)
            if gate is None:
                return 0.0
            now = self._clock()
            if now < gate.until:
                return gate.until - now
            probing = gate.probing and now - gate.probe_started < PROBE_TIMEOUT_SECONDS
            return PROBE_POLL_SECONDS if probing else 0.0

    def _admit(self, key: Hashable) -> float:
        gate = self._gates.get(key)
        if gate is None:
            return 0.0
        now = self._clock()
        if now < gate.until:
            return gate.until - now
        if gate.probing and now - gate.probe_started < PROBE_TIMEOUT_SECONDS:
            return PROBE_POLL_SECONDS
        gate.probing = True
        gate.probe_started = now
        return 0.0

    def failed(self, key: Hashable, wait: float, *, announced: bool) -> None:
        """A GREEN failure on `key`. `announced`: `wait` is the provider's Retry-After
        (everyone waits it); otherwise it is the caller's backoff, which everyone waits
        only once the key is an outage (`OUTAGE_STREAK` failures in a row)."""
        with self._changed:
            now = self._clock()
            gate = self._gates.setdefault(key, _Gate(until=now))
            gate.streak += 1
            if announced:
                gate.until = max(gate.until, now + max(0.0, wait))
            elif gate.streak >= OUTAGE_STREAK:
                interval = PROBE_BASE_SECONDS * 2.0 ** (gate.streak - OUTAGE_STREAK)
                probe_in = min(max(0.0, wait), interval, PROBE_MAX_SECONDS)
                gate.until = max(gate.until, now + probe_in)
            gate.probing = False
            self._changed.notify_all()

    def succeeded(self, key: Hashable) -> None:
        """A success on `key`: its gate opens for every caller."""
        with self._changed:
            if self._gates.pop(key, None) is not None:
                self._changed.notify_all()

    def released(self, key: Hashable) -> None:
        """The probe ended with a failure that says nothing about `key` (YELLOW, RED):
        let the next caller probe."""
        with self._changed:
            gate = self._gates.get(key)
            if gate is not None and gate.probing:
                gate.probing = False
                self._changed.notify_all()
