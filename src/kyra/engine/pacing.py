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
- A slot in the line is a ticket, not a fixed time: its time is computed from the line's
  front and the *current* rate. When the rate changes, the slots not yet due move with it
  (a limit found to be twice as high halves the waits of everyone already in line, a cut
  spreads them out), so a queue reserved at a cautious first guess does not keep the pace
  of that guess for as long as the queue lasts.

Times are the monotonic clock's seconds. A bucket is not thread-safe: the fleet guard
holds a lock around every call.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass, field

from kyra.engine.ratelimit_headers import Quota

MIN_RATE = 0.01
"""Requests per second below which a bucket never paces (one request every 100 s)."""
ACCEPTED_WINDOW = 1.0
"""Seconds of successful answers a 429 looks back on to find the accepted rate."""
SLOW_START_SHARE = 0.75
SLOW_START_SECONDS = 0.5
"""Below three quarters of the rate of the last cut, the rate doubles every half second
without a 429 (a first guess from a burst's aftermath can be far too low)."""
SAME_WINDOW = 0.5
"""Two answers whose resets are this close describe the same quota window."""
ANSWER_WAIT = 0.05
"""How often requests held for a window's first answer ask again."""
MIN_EPISODE = 0.25
"""Seconds of 429s after which what was accepted since the first one is a fair measure."""


@dataclass(frozen=True)
class Slot:
    """A place in one bucket's line: the time it was given (`at`) and, for a paced slot,
    its ticket, whose time follows the bucket's rate (see `PaceBucket.when`)."""

    at: float
    ticket: int | None = None


@dataclass
class PaceSettings:
    increase: float = 1.05
    """Factor the rate grows by per quiet `probe_seconds` (additive-increase analogue)."""
    probe_seconds: float = 2.0
    cut_guard: float = 0.5
    relax_seconds: float = 10.0
    short_retry_after: float = 1.0
    """A Retry-After up to this many seconds delays one request, not the whole bucket."""
    max_block: float = 3600.0
    """A Retry-After beyond this is not believed for the bucket (the step that got it
    fails with the reason): an upstream cannot freeze a limiter for years."""


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
    last_wait_kind: str = "pacing"
    window_opens: float = 0.0
    """Requests queued for a spent quota all wait for the window that opens then."""
    ceiling: float = float("inf")
    """The rate of the last cut: far below it the rate grows fast (slow start), near it
    slowly (congestion avoidance)."""
    policy_limit: float | None = None
    policy_window: float | None = None
    rate_limited: int = 0
    last_429: float = float("-inf")
    episode_start: float = float("-inf")
    last_cut: float = float("-inf")
    last_raise: float = float("-inf")
    last_binding: float = float("-inf")
    """When a request last had to wait for its slot: a pace that holds requests back is
    why no 429 comes, so it is not relaxed while it binds."""
    changed_at: float = 0.0
    accepted: deque[float] = field(default_factory=lambda: deque(maxlen=512))
    in_flight: int = 0
    """Slots handed out whose answers have not come back: a `Remaining` count in an
    answer does not know about them yet."""
    claimed: list[float] = field(default_factory=list)
    """Slots taken ahead of the line (sorted)."""
    front_at: float = 0.0
    front_n: int = 0
    """The line's front: ticket `front_n` is due at `front_at`, each later ticket 1/rate
    after the one before (until the line jumps: a block, a retry's slot, a window)."""
    issued: int = 0
    """Tickets handed out so far (the next one's number)."""
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
        if at is not None and self.rate and self.issued > self.front_n:
            return self._step_in(now, at)
        start = max(now, self.next_at, self.blocked_until)
        if self.rate and self.claimed:
            interval = 1.0 / self.rate
            while self.claimed and self.claimed[0] < start + interval:
                claimed = self.claimed.pop(0)
                if claimed > start - interval:
                    start = claimed + interval
        if self.reset_at is not None and start >= self.reset_at:
            self._new_window()
        if self.remaining is not None and self.remaining <= 0 and self.reset_at is not None:
            start = max(start, self.reset_at)  # spent: wait for the reset
            self.window_opens = self.reset_at
            self._new_window()
            self.last_wait_kind = "quota"
        start = max(start, self.window_opens)
        if self.remaining is not None:
            self.remaining -= 1
        if start > now:
            self.last_binding = now
        if self.rate:
            if abs(start - self._due(self.issued)) > 1e-9:  # the line jumped: a new front
                self.front_at, self.front_n = start, self.issued
            self.issued += 1
            self.next_at = start + 1.0 / self.rate
        self.in_flight += 1
        return start

    def _step_in(self, now: float, at: float) -> float:
        """A retry due inside the line (which is longer than its Retry-After) takes the
        next place due from `at` on, and every ticket from there moves back one interval:
        the rate holds, and a request that already waited its turn once does not queue
        behind every run that reached the line after it (in a line of 200 at 5/s, the
        back is 40 s away)."""
        assert self.rate
        interval = 1.0 / self.rate
        since = max(now, at, self.blocked_until)
        ahead = max(0, math.ceil((since - self.front_at) * self.rate - 1e-9))
        n0 = min(self.issued, self.front_n + ahead)
        start = max(since, self._due(n0))
        self.front_at, self.front_n = start + interval, n0
        self.next_at = self._due(self.issued)
        self.in_flight += 1
        return start

    def take(self, now: float, at: float | None = None) -> Slot:
        """`reserve`, as a `Slot` whose time follows later changes of the rate."""
        paced = bool(self.rate) and at is None
        start = self.reserve(now, at)
        return Slot(start, self.issued - 1 if paced and self.rate else None)

    def when(self, slot: Slot) -> float:
        """When `slot` is due now: a ticket still in line moves with the rate; a slot the
        line jumped past, a retry's slot and an unpaced one keep their time."""
        if slot.ticket is None or not self.rate or slot.ticket < self.front_n:
            return slot.at
        return self._due(slot.ticket)

    def _due(self, ticket: int) -> float:
        assert self.rate
        return self.front_at + (ticket - self.front_n) / self.rate

    def _set_rate(self, now: float, rate: float) -> None:
        """A new rate, and the tickets not yet due move with it: the front becomes the
        first ticket due at or after `now` under the old rate."""
        old = self.rate
        if old and self.issued > self.front_n and now > self.front_at:
            n0 = min(self.issued, self.front_n + math.ceil((now - self.front_at) * old))
            self.front_at, self.front_n = self.front_at + (n0 - self.front_n) / old, n0
        elif not old:
            self.front_at, self.front_n = max(now, self.next_at), self.issued
        self.rate = rate
        self.next_at = self._due(self.issued)

    def _new_window(self) -> None:
        """The announced reset came. Windows may roll (only the oldest request expired)
        or be fixed (all of the limit is back): one request goes and its answer says."""
        self.remaining, self.reset_at = 1, None

    def awaiting_answer(self, now: float) -> float | None:
        """When the quota is spent and the request that learns the new window is still
        out, the time to ask again (nobody else goes until its answer); else None."""
        if self.remaining is None or self.remaining > 0 or self.reset_at is not None:
            return None
        if self.in_flight <= 0:
            self.remaining = None  # its answer was lost: stop counting
            return None
        return max(now, self.window_opens) + ANSWER_WAIT

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
        self.in_flight = max(0, self.in_flight - 1)
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
        """Spend the announced quota locally; wait for its reset once it is spent. A
        policy (limit per window) is not turned into an even pace: a fixed window allows
        bursts, and spreading 5,000 requests an hour evenly would slow ten requests to
        seven seconds. It only refills `remaining` when a window resets."""
        if quota.remaining is None:
            return False
        if quota.limit is not None:
            self.policy_limit, self.policy_window = quota.limit, quota.window
        believable = quota.reset_in is not None and quota.reset_in <= self.settings.max_block
        if not believable or quota.reset_in is None:
            self.remaining = self.reset_at = None
            return False
        remaining, reset_at = quota.remaining - self.in_flight, now + quota.reset_in
        if self.remaining is not None and self.reset_at is None and now < self.window_opens:
            # A late answer while the spent window's opening is booked (one request goes
            # then and learns the new window): re-arming a reset from this answer would
            # hand the same opening to a second request.
            return False
        same_window = (
            self.remaining is not None
            and self.reset_at is not None
            and abs(reset_at - self.reset_at) < SAME_WINDOW
        )
        # Answers overtake each other: within one window the lowest count is the truth.
        self.remaining = min(self.remaining, remaining) if same_window else remaining  # type: ignore[type-var]
        self.reset_at = reset_at
        if quota.exhausted and believable and quota.reset_in is not None:
            self.source = quota.source
            self.block_reason = (
                f"quota spent ({quota.source}): waiting {quota.reset_in:.1f} s for its reset"
            )
            return True
        return False

    def _on_429(self, now: float, quota: Quota) -> bool:
        s = self.settings
        self.rate_limited += 1
        if now - self.last_429 > ACCEPTED_WINDOW:
            self.episode_start = now  # the first 429 after a quiet second
        self.last_429 = now
        if s.short_retry_after < (quota.retry_after or 0.0) <= s.max_block:
            assert quota.retry_after is not None
            self.blocked_until = max(self.blocked_until, now + quota.retry_after)
            self.block_reason = f"Retry-After: {quota.retry_after:g} s"
        if now - self.last_cut < s.cut_guard:
            return True
        accepted = self._accepted_rate(now)
        self.ceiling = self.rate if self.rate is not None else float("inf")
        if self.rate is None:
            believed = quota.retry_after if (quota.retry_after or 0.0) <= s.max_block else None
            # A hostile Retry-After (years) is no pace either: one a second, then learn.
            fallback = 1.0 / believed if believed else 1.0
            new = accepted if accepted > 0 else fallback
        else:
            new = accepted if accepted > 0 else self.rate / 2
        self._set_rate(now, max(new, MIN_RATE))
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
        if self.rate is None:
            return False
        if now - max(self.last_429, self.last_binding) >= s.relax_seconds:
            self._stop_pacing()
            return True
        quiet = now - max(self.last_raise, self.last_429)
        if self.rate < SLOW_START_SHARE * self.ceiling and quiet >= SLOW_START_SECONDS:
            # far too cautious
            self._set_rate(now, min(self.rate * 2, SLOW_START_SHARE * self.ceiling))
            self.last_raise = now
        elif quiet >= s.probe_seconds:
            self._set_rate(now, self.rate * s.increase)
            self.last_raise = now
        return False

    def _relax(self, now: float) -> None:
        if self.blocked_until and now >= self.blocked_until:
            self.blocked_until, self.block_reason = 0.0, ""
        quiet = now - max(self.last_429, self.last_binding)
        if self.rate is not None and quiet >= self.settings.relax_seconds:
            self._stop_pacing()

    def _stop_pacing(self) -> None:
        self.rate = None
        self.reason = (
            f"relaxed: no rate-limit answer and no request held back for "
            f"{self.settings.relax_seconds:g} s"
        )
