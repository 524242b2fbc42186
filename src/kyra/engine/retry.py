"""Retry delays built from a stored `RetryPolicy` (the policy is data; this is behaviour)."""

from __future__ import annotations

import random

from kyra.workflows.model import Backoff, RetryPolicy

JITTER_FRACTION = 0.1


def backoff_delay(
    policy: RetryPolicy, retry_number: int, rng: random.Random | None = None
) -> float:
    """Delay before retry number `retry_number` (1 = the first retry)."""
    if policy.backoff is Backoff.NONE:
        base = 0.0
    elif policy.backoff is Backoff.FIXED:
        base = policy.initial_delay
    else:
        base = policy.initial_delay * policy.multiplier ** (retry_number - 1)
    base = min(base, policy.max_delay)
    if policy.jitter == "full" and base > 0:
        return (rng or random).uniform(0, base)
    if policy.jitter and base > 0:
        base += (rng or random).uniform(0, base * JITTER_FRACTION)
    return base


def retry_delay(
    policy: RetryPolicy,
    retry_number: int,
    retry_after: float | None,
    rng: random.Random | None = None,
) -> float:
    """The backoff delay, but never shorter than what the server asked for: retrying
    before `Retry-After` only earns another 429."""
    delay = backoff_delay(policy, retry_number, rng)
    if retry_after is not None and retry_after > delay:
        return retry_after
    return delay
