"""Learned pacing: what one caller learned about an endpoint, every caller in the process obeys.

Retrying each call on its own is what makes a rate limit or an outage expensive: eight
threads that all meet the same 429 send eight more requests, and keep sending new first
attempts while the provider has asked everyone to wait. A `Pacer` keeps one gate a key
(an endpoint, a provider: whatever the caller names):

- a GREEN failure with a Retry-After closes the key's gate for that long;
- a GREEN failure without one makes the next caller a probe, the others waiting for its
  answer (one round trip: a lone failure costs them nothing more); when failures follow
  each other with no success between them, the gate closes for the failing caller's own
  backoff;
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


@dataclass
class _Gate:
    until: float = 0.0
    probing: bool = False
    probe_started: float = 0.0


class Pacer:
    """Per-key gates shared by every caller of this process (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._gates: dict[Hashable, _Gate] = {}
        self._changed = threading.Condition()

    def before(self, key: Hashable) -> float:
        """Block until this caller may send on `key`; returns the seconds it waited."""
        started = self._clock()
        with self._changed:
            while True:
                gate = self._gates.get(key)
                if gate is None:
                    break
                now = self._clock()
                if now < gate.until:
                    self._changed.wait(gate.until - now)
                    continue
                if gate.probing and now - gate.probe_started < PROBE_TIMEOUT_SECONDS:
                    self._changed.wait(PROBE_TIMEOUT_SECONDS)
                    continue
                gate.probing = True
                gate.probe_started = now
                break
        return self._clock() - started

    def failed(self, key: Hashable, wait: float, *, announced: bool) -> None:
        """A GREEN failure on `key`. `announced`: `wait` is the provider's Retry-After
        (everyone waits it); otherwise it is the caller's backoff, which everyone waits
        only when the key was already failing."""
        with self._changed:
            now = self._clock()
            gate = self._gates.get(key)
            if gate is None:
                gate = self._gates[key] = _Gate(until=now)
                if announced:
                    gate.until = now + max(0.0, wait)
            else:
                gate.until = max(gate.until, now + max(0.0, wait))
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
