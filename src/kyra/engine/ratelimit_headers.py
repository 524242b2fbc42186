"""What an HTTP response says about the caller's rate limit, whatever dialect it speaks.

Providers announce quotas in a handful of header families; each parser below reads one
and they all produce the same `Quota`. Nothing here decides anything: `pacing.py` turns a
`Quota` into waits. Unknown or malformed values are ignored (an upstream's headers can
never raise here), and every duration is clamped to be non-negative.

Families read (first match wins for each field):
- `Retry-After`: seconds or an HTTP date (RFC 9110 §10.2.3).
- IETF `RateLimit` / `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers-08+):
  `"default";r=0;t=30` and `"default";q=100;w=60`, the policy name is the bucket.
- IETF draft-06 and older: `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`
  (delta seconds), `RateLimit-Policy: 100;w=60`.
- `X-RateLimit-Limit/-Remaining/-Reset` (GitHub, Twitter/X, Zoom, many others; reset is
  epoch seconds, epoch milliseconds or delta seconds, told apart by magnitude), with the
  bucket in `X-RateLimit-Resource` (GitHub) or `X-RateLimit-Bucket` and the delta in
  `X-RateLimit-Reset-After` (Discord).
- OpenAI `x-ratelimit-*-requests` (reset as a Go duration like `6m0s`), Anthropic
  `anthropic-ratelimit-requests-*` (reset as an RFC 3339 time).
- Shopify `X-Shopify-Shop-Api-Call-Limit: 32/40` (a leaky bucket: used/size).
- HubSpot `X-HubSpot-RateLimit-Max/-Remaining/-Interval-Milliseconds`.
- Stripe `Stripe-Rate-Limited-Reason` (names which of its limiters answered: the bucket).
"""

from __future__ import annotations

import dataclasses
import email.utils
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

EPOCH_SECONDS = 1e9
"""A reset value above this is a Unix time, not a number of seconds from now."""
EPOCH_MILLISECONDS = 1e12


@dataclass(frozen=True)
class Quota:
    """A response's word on the caller's quota; any field may be unknown (None)."""

    limit: float | None = None
    """Requests allowed per window."""
    remaining: float | None = None
    """Requests left in the current window."""
    reset_in: float | None = None
    """Seconds until the window resets (remaining goes back to limit)."""
    window: float | None = None
    """Length of the window in seconds, when the policy says it."""
    retry_after: float | None = None
    """Seconds the upstream asked us to wait (Retry-After)."""
    bucket: str | None = None
    """The provider's own name for the limiter that applies (a scope hint)."""
    source: str = ""
    """The header family it came from, for people reading `kyra status`."""

    @property
    def rate(self) -> float | None:
        """Requests per second the policy allows, when it says both limit and window."""
        if self.limit and self.window and self.limit > 0 and self.window > 0:
            return self.limit / self.window
        return None

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0 and self.reset_in is not None


def read_quota(headers: Mapping[str, str], now: float) -> Quota:
    """The quota a response announces (`now` is the wall clock, epoch seconds)."""
    h = {k.lower(): v.strip() for k, v in headers.items()}
    retry_after = parse_retry_after(h.get("retry-after"), now)
    for parse in (
        _ietf_structured,
        _ietf_legacy,
        _x_ratelimit,
        _openai,
        _anthropic,
        _shopify,
        _hubspot,
    ):
        quota = parse(h, now)
        if quota is not None:
            return _with(quota, retry_after=retry_after, bucket=quota.bucket or _bucket(h))
    return Quota(
        retry_after=retry_after,
        bucket=_bucket(h),
        source="Retry-After" if retry_after is not None else "",
    )


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delta seconds or an HTTP date)."""
    if not value:
        return None
    number = _number(value)
    if number is not None:
        return max(number, 0.0)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return max(parsed.timestamp() - now, 0.0)


def _with(quota: Quota, **changes: Any) -> Quota:
    return dataclasses.replace(quota, **changes)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.split(",")[0].strip())
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):  # NaN, inf
        return None
    return number


def _reset_seconds(value: str | None, now: float) -> float | None:
    """A reset given as epoch seconds, epoch milliseconds or seconds from now."""
    number = _number(value)
    if number is None:
        return None
    if number > EPOCH_MILLISECONDS:
        number = number / 1000 - now
    elif number > EPOCH_SECONDS:
        number -= now
    return max(number, 0.0)


def _bucket(h: Mapping[str, str]) -> str | None:
    for name in ("x-ratelimit-resource", "x-ratelimit-bucket", "stripe-rate-limited-reason"):
        value = h.get(name)
        if value and len(value) <= 100:
            return value
    return None


_PARAM = re.compile(r'([a-z]+)=("?)([^;,"]*)\2')


def _params(item: str) -> tuple[str | None, dict[str, str]]:
    """`"name";q=100;w=60` → ("name", {"q": "100", "w": "60"}) (RFC 8941 lists, loosely)."""
    head, _, rest = item.partition(";")
    name = head.strip().strip('"') or None
    if name is not None and "=" in name:  # no name: the first part is a parameter
        rest, name = f"{head};{rest}", None
    return name, {k: v for k, _, v in _PARAM.findall(rest)}


def _ietf_structured(h: Mapping[str, str], now: float) -> Quota | None:
    state = h.get("ratelimit")
    if state is None or ";" not in state:
        return None
    name, params = _params(state.split(",")[0])
    quota = Quota(
        remaining=_number(params.get("r")),
        reset_in=_number(params.get("t")),
        bucket=name,
        source="RateLimit",
    )
    policy = h.get("ratelimit-policy")
    if policy:
        for item in policy.split(","):
            pname, pparams = _params(item)
            if pname == name or pname is None or name is None:
                return _with(
                    quota, limit=_number(pparams.get("q")), window=_number(pparams.get("w"))
                )
    return quota


def _ietf_legacy(h: Mapping[str, str], now: float) -> Quota | None:
    if "ratelimit-remaining" not in h and "ratelimit-limit" not in h:
        return None
    window = None
    policy = h.get("ratelimit-policy")
    if policy:
        window = _number(_params(policy.split(",")[0])[1].get("w"))
    return Quota(
        limit=_number(h.get("ratelimit-limit")),
        remaining=_number(h.get("ratelimit-remaining")),
        reset_in=_reset_seconds(h.get("ratelimit-reset"), now),
        window=window,
        source="RateLimit-*",
    )


def _x_ratelimit(h: Mapping[str, str], now: float) -> Quota | None:
    if "x-ratelimit-remaining" not in h and "x-ratelimit-limit" not in h:
        return None
    reset = _number(h.get("x-ratelimit-reset-after"))
    if reset is None:
        reset = _reset_seconds(h.get("x-ratelimit-reset"), now)
    return Quota(
        limit=_number(h.get("x-ratelimit-limit")),
        remaining=_number(h.get("x-ratelimit-remaining")),
        reset_in=None if reset is None else max(reset, 0.0),
        source="X-RateLimit-*",
    )


_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def _go_duration(value: str | None) -> float | None:
    if not value:
        return None
    parts = _GO_DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value.replace(" ", ""):
        return _number(value)
    return sum(float(n) * _UNIT[u] for n, u in parts)


def _openai(h: Mapping[str, str], now: float) -> Quota | None:
    if "x-ratelimit-remaining-requests" not in h:
        return None
    return Quota(
        limit=_number(h.get("x-ratelimit-limit-requests")),
        remaining=_number(h.get("x-ratelimit-remaining-requests")),
        reset_in=_go_duration(h.get("x-ratelimit-reset-requests")),
        source="x-ratelimit-*-requests",
    )


def _anthropic(h: Mapping[str, str], now: float) -> Quota | None:
    if "anthropic-ratelimit-requests-remaining" not in h:
        return None
    reset = None
    value = h.get("anthropic-ratelimit-requests-reset")
    if value:
        try:
            reset = max(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - now, 0.0)
        except ValueError:
            reset = None
    return Quota(
        limit=_number(h.get("anthropic-ratelimit-requests-limit")),
        remaining=_number(h.get("anthropic-ratelimit-requests-remaining")),
        reset_in=reset,
        source="anthropic-ratelimit-requests-*",
    )


def _shopify(h: Mapping[str, str], now: float) -> Quota | None:
    value = h.get("x-shopify-shop-api-call-limit")
    if not value or "/" not in value:
        return None
    used, size = (_number(v) for v in value.split("/", 1))
    if used is None or not size:
        return None
    # A leaky bucket that drains about size/20 requests a second (2/s for 40, 20/s for 400).
    # It never resets as a whole: one more request fits every 1/leak s, so that is the
    # "reset" of the count (waiting for the whole bucket to drain would idle 20 s when
    # the next request fits in half a second).
    leak = size / 20
    return Quota(
        limit=size,
        remaining=max(size - used, 0),
        reset_in=(max(used - size, 0) + 1) / leak,
        window=size / leak,
        source="X-Shopify-Shop-Api-Call-Limit",
    )


def _hubspot(h: Mapping[str, str], now: float) -> Quota | None:
    if "x-hubspot-ratelimit-remaining" not in h:
        return None
    interval = _number(h.get("x-hubspot-ratelimit-interval-milliseconds"))
    return Quota(
        limit=_number(h.get("x-hubspot-ratelimit-max")),
        remaining=_number(h.get("x-hubspot-ratelimit-remaining")),
        window=interval / 1000 if interval else None,
        reset_in=interval / 1000 if interval else None,
        source="X-HubSpot-RateLimit-*",
    )
