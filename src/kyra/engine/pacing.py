"""Pacing one rate limit: how fast a tenant may call one upstream limiter.

A `PaceBucket` is the engine's picture of one limiter (tenant + host + scope, see
`fleet.py`). It hands out request slots and learns from every answer:

- The upstream's own numbers first. A policy in the headers (limit per window) sets the
  rate outright; `Remaining: 0` with a reset makes every request wait for the reset
  instead of spending a 429 (predictive pacing); the count of requests left is spent
  locally as slots are handed out, so concurrent callers do not all take the last one.
- Without numbers, the answers themselves (AIMD, as TCP does with congestion): a 429
  sets the rate to what the upstream *accepted* over the last second (never lower: that
  rate has just been shown to work), and each quiet `probe_seconds` raises it by
  `increase`, so a limit that was lifted is found again within seconds. Cuts happen at
  most once per `cut_guard`: the 429s of requests already in flight say nothing new.
- A long `Retry-After` (beyond one second: whole-second rounding of a token bucket is not
  a window) blocks the bucket until then; a short one only delays the request that got
  it. A bucket that saw no 429 for `relax_seconds` stops pacing altogether.

Times are the monotonic clock's seconds. A bucket is not thread-safe: the fleet guard
holds a lock around every call.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field

from kyra.engine.ratelimit_headers import Quota

MIN_RATE = 0.01
"""Requests per second below which a bucket never paces (one request every 100 s)."""
ACCEPTED_WINDOW = 1.0
"""Seconds of successful answers a 429 looks back on to find the accepted rate."""
MIN_EPISODE = 0.25
"""Seconds of 429s after which what was accepted since the first one is a fair measure."""


@dataclass
class PaceSettings:
    increase: float = 1.05
    """Factor the rate grows by per quiet `probe_seconds` (additive-increase analogue)."""
    probe_seconds: float = 2.0
    cut_guard: float = 0.5
    relax_seconds: float = 10.0
    short_retry_after: float = 1.0
    """A Retry-After up to this many seconds delays one request, not the whole bucket."""


@dataclass
class PaceBucket:
    """One learned limit. `rate` None means "not paced"."""

    rate: float | None = None
    source: str = ""
    reason: str = ""
    next_at: float = 0.0
    blocked_until: float = 0.0
    block_reason: str = ""
    remaining: float | None = None
    reset_at: float | None = None
    policy_limit: float | None = None
    policy_window: float | None = None
    rate_limited: int = 0
    last_429: float = float("-inf")
    episode_start: float = float("-inf")
    last_cut: float = float("-inf")
    last_raise: float = float("-inf")
    changed_at: float = 0.0
    accepted: deque[float] = field(default_factory=lambda: deque(maxlen=512))
    claimed: list[float] = field(default_factory=list)
    """Slots taken ahead of the line (sorted)."""
    settings: PaceSettings = field(default_factory=PaceSettings)

    # -- slots ------------------------------------------------------------------------

    def reserve(self, now: float, at: float | None = None) -> float:
        """Take the next slot; returns when it starts (≥ now). With `at` beyond the line,
        the slot at `at` itself (a 429's retry, due after its Retry-After): the line
        skips it when it gets there, so the retry neither jumps the line nor loses its
        place."""
        self._relax(now)
        if at is not None and self.rate and at > max(now, self.next_at, self.blocked_until):
            bisect.insort(self.claimed, at)
            return at
        start = max(now, self.next_at, self.blocked_until)
        if self.rate and self.claimed:
            interval = 1.0 / self.rate
            while self.claimed and self.claimed[0] < start + interval:
                claimed = self.claimed.pop(0)
                if claimed > start - interval:
                    start = claimed + interval
        if self.reset_at is not None and start >= self.reset_at:
            # A new window: the announced limit is back (or unknown).
            self.remaining = self.policy_limit
            self.reset_at = (
                self.reset_at + self.policy_window
                if self.policy_window and self.policy_limit is not None
                else None
            )
        if self.remaining is not None:
            if self.remaining <= 0 and self.reset_at is not None:
                start = max(start, self.reset_at)
                self.remaining = (self.policy_limit or 1) - 1
                self.reset_at = start + self.policy_window if self.policy_window else None
            else:
                self.remaining -= 1
        if self.rate:
            self.next_at = start + 1.0 / self.rate
        return start

    def ready_at(self, now: float) -> float:
        """When a request could start if it asked now (no slot is taken)."""
        start = max(now, self.next_at, self.blocked_until)
        if self.remaining is not None and self.remaining <= 0 and self.reset_at is not None:
            start = max(start, self.reset_at)
        return start

    def idle(self, now: float, quiet: float) -> bool:
        """Nothing learned and nothing heard for `quiet` seconds: it can be forgotten."""
        last = self.accepted[-1] if self.accepted else self.changed_at
        return (
            self.rate is None
            and self.remaining is None
            and self.blocked_until == 0.0
            and now - max(last, self.last_429) > quiet
        )

    # -- learning -----------------------------------------------------------------------

    def observe(self, now: float, status: int, quota: Quota) -> bool:
        """Learn from one answer; True when what a person would see changed."""
        changed = self._learn_quota(now, quota)
        if status == 429:
            changed = self._on_429(now, quota) or changed
        elif status < 400:
            self.accepted.append(now)
            changed = self._maybe_raise(now) or changed
        if changed:
            self.changed_at = now
        return changed

    def _learn_quota(self, now: float, quota: Quota) -> bool:
        if quota.remaining is None and quota.rate is None:
            return False
        changed = False
        if quota.rate is not None and quota.rate != self.rate and quota.limit:
            self.rate = quota.rate
            self.policy_limit, self.policy_window = quota.limit, quota.window
            self.source = quota.source
            self.reason = f"the upstream announces {quota.limit:g} requests per {quota.window:g} s"
            changed = True
        if quota.remaining is not None:
            self.remaining = quota.remaining
            self.reset_at = now + quota.reset_in if quota.reset_in is not None else None
            if self.policy_limit is None and quota.limit is not None:
                self.policy_limit = quota.limit
            if quota.exhausted and quota.reset_in is not None:
                changed = True
                self.source = self.source or quota.source
                self.block_reason = (
                    f"quota spent ({quota.source}): waiting {quota.reset_in:.1f} s for its reset"
                )
        return changed

    def _on_429(self, now: float, quota: Quota) -> bool:
        s = self.settings
        self.rate_limited += 1
        if now - self.last_429 > ACCEPTED_WINDOW:
            self.episode_start = now  # the first 429 after a quiet second
        self.last_429 = now
        if quota.retry_after is not None and quota.retry_after > s.short_retry_after:
            self.blocked_until = max(self.blocked_until, now + quota.retry_after)
            self.block_reason = f"Retry-After: {quota.retry_after:g} s"
        if quota.rate is not None or now - self.last_cut < s.cut_guard:
            return True
        accepted = self._accepted_rate(now)
        if self.rate is None:
            fallback = 1.0 / quota.retry_after if quota.retry_after else 1.0
            new = accepted if accepted > 0 else fallback
        else:
            new = accepted if accepted > 0 else self.rate / 2
        self.rate = max(new, MIN_RATE)
        self.last_cut = self.last_raise = now
        self.source = "429 answers"
        self.reason = (
            f"{self.rate_limited} rate-limit answers; pacing at the {self.rate:.3g} requests/s "
            "the upstream accepted"
        )
        return True

    def _accepted_rate(self, now: float) -> float:
        """Requests per second the upstream accepted lately. Once 429s come, only what it
        accepted since the first of them counts: before it, a token bucket was spending
        its burst, a rate it cannot sustain."""
        since = now - ACCEPTED_WINDOW
        if self.episode_start > since and now - self.episode_start >= MIN_EPISODE:
            since = self.episode_start
        span = now - since
        return sum(1 for t in self.accepted if t > since) / span

    def _maybe_raise(self, now: float) -> bool:
        s = self.settings
        if self.rate is None or self.policy_limit is not None:
            return False
        if now - self.last_429 >= s.relax_seconds:
            self._stop_pacing()
            return True
        if now - max(self.last_raise, self.last_429) >= s.probe_seconds:
            self.rate *= s.increase
            self.last_raise = now
        return False

    def _relax(self, now: float) -> None:
        if self.blocked_until and now >= self.blocked_until:
            self.blocked_until, self.block_reason = 0.0, ""
        if (
            self.rate is not None
            and self.policy_limit is None
            and now - self.last_429 >= self.settings.relax_seconds
        ):
            self._stop_pacing()

    def _stop_pacing(self) -> None:
        self.rate = None
        self.reason = f"relaxed: no rate-limit answer for {self.settings.relax_seconds:g} s"

    def describe(self, now: float) -> str:
        """One line for `kyra status` and wait messages."""
        parts = []
        if self.rate:
            parts.append(f"{self.rate:.3g} req/s ({self.reason})")
        wait = self.ready_at(now) - now
        if wait > 0:
            parts.append(
                f"next request in {wait:.1f} s"
                + (f": {self.block_reason}" if self.block_reason else "")
            )
        return "; ".join(parts) or self.reason or "not paced"
