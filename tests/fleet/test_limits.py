"""Values in, decisions out: quota headers, pacing buckets and circuit breakers, without a
store or a server (the behaviour against real upstreams is in test_fleet.py)."""

from __future__ import annotations

from itertools import pairwise

import pytest

from kyra.engine.breaker import Breaker, BreakerSettings, CircuitState
from kyra.engine.pacing import PaceBucket, PaceSettings
from kyra.engine.ratelimit_headers import Quota, read_quota
from kyra.engine.scopes import scope_of

NOW = 1_800_000_000.0  # wall clock, epoch seconds


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(NOW + 120)),
                "X-RateLimit-Resource": "core",
            },
            Quota(limit=5000, remaining=0, reset_in=120, bucket="core", source="X-RateLimit-*"),
        ),
        (  # Discord: delta seconds and its own bucket id
            {
                "x-ratelimit-limit": "5",
                "x-ratelimit-remaining": "4",
                "x-ratelimit-reset-after": "1.5",
                "x-ratelimit-bucket": "abcd1234",
            },
            Quota(limit=5, remaining=4, reset_in=1.5, bucket="abcd1234", source="X-RateLimit-*"),
        ),
        (  # reset in epoch milliseconds
            {"X-RateLimit-Remaining": "2", "X-RateLimit-Reset": str(int((NOW + 30) * 1000))},
            Quota(remaining=2, reset_in=30, source="X-RateLimit-*"),
        ),
        (  # IETF structured fields (draft 08+)
            {"RateLimit": '"default";r=0;t=30', "RateLimit-Policy": '"default";q=100;w=60'},
            Quota(
                limit=100, remaining=0, reset_in=30, window=60, bucket="default", source="RateLimit"
            ),
        ),
        (  # IETF draft 06 and older
            {
                "RateLimit-Limit": "10",
                "RateLimit-Remaining": "3",
                "RateLimit-Reset": "7",
                "RateLimit-Policy": "10;w=60",
            },
            Quota(limit=10, remaining=3, reset_in=7, window=60, source="RateLimit-*"),
        ),
        (  # OpenAI: Go durations
            {
                "x-ratelimit-limit-requests": "500",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "6m0s",
            },
            Quota(limit=500, remaining=0, reset_in=360, source="x-ratelimit-*-requests"),
        ),
        (  # Shopify leaky bucket, full
            {"X-Shopify-Shop-Api-Call-Limit": "40/40"},
            Quota(
                limit=40,
                remaining=0,
                reset_in=0.5,  # one more request fits after 1/leak s
                window=20,
                source="X-Shopify-Shop-Api-Call-Limit",
            ),
        ),
        (  # Stripe names the limiter that answered
            {"Retry-After": "2", "Stripe-Rate-Limited-Reason": "endpoint-rate"},
            Quota(retry_after=2, bucket="endpoint-rate", source="Retry-After"),
        ),
    ],
)
def test_each_header_family_reads_as_one_quota(headers: dict[str, str], expected: Quota) -> None:
    assert read_quota(headers, NOW) == expected


@pytest.mark.parametrize(
    "value",
    ["nan", "inf", "-5", "soon", "Wed, 99 Foo 2026 10:00:00 GMT", "1e999", "x" * 10_000],
)
def test_hostile_or_malformed_values_never_raise_or_go_negative(value: str) -> None:
    quota = read_quota(
        {
            "Retry-After": value,
            "X-RateLimit-Remaining": value,
            "X-RateLimit-Reset": value,
            "RateLimit": value,
            "x-ratelimit-reset-requests": value,
        },
        NOW,
    )
    for number in (quota.retry_after, quota.reset_in):
        assert number is None or number >= 0


def test_retry_after_as_an_http_date() -> None:
    assert (
        read_quota(
            {"Retry-After": "Fri, 15 Jan 2027 08:00:30 GMT"}, 1_799_999_999 + 31 - 31
        ).retry_after
        is not None
    )


@pytest.mark.parametrize(
    ("url", "scope"),
    [
        (
            "https://api.example.com/v1/customers/cus_NffrFeUfNV2Hib/charges",
            ("api.example.com", "/v1/customers/*/charges"),
        ),
        ("http://127.0.0.1:8080/orders/12345?x=1", ("127.0.0.1:8080", "/orders/*")),
        ("https://h.io/files/3f2b9c1e-0a4d-4c1b-9e3a-2b7c8d9e0f1a", ("h.io", "/files/*")),
        ("https://h.io/", ("h.io", "/")),
    ],
)
def test_scope_is_host_and_route_family(url: str, scope: tuple[str, str]) -> None:
    assert scope_of(url) == scope
    assert scope_of("not a url")[0] == ""


class TokenBucket:
    """A provider's limiter: `rate` tokens a second, at most `burst` saved."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, 0.0

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@pytest.mark.parametrize(("rate", "burst"), [(20, 20), (20, 1), (5, 50), (100, 10)])
def test_pacing_converges_on_the_rate_a_token_bucket_accepts(rate: float, burst: float) -> None:
    # Eight callers send as fast as their slots allow for 30 simulated seconds.
    upstream, bucket = TokenBucket(rate, burst), PaceBucket(settings=PaceSettings())
    now, sent, rejected = 0.0, 0, 0
    while now < 30:
        now = bucket.reserve(now) + 0.001
        sent += 1
        ok = upstream.take(now)
        rejected += not ok
        retry = Quota(retry_after=1.0) if not ok else Quota()
        bucket.observe(now + 0.005, 200 if ok else 429, retry)
    accepted_per_s = (sent - rejected) / 30
    # Uses what it may (a burst of 1 punishes every probe above the rate: a little less).
    assert accepted_per_s >= (0.8 if burst < 2 else 0.9) * rate, (accepted_per_s, rate)
    assert rejected <= 0.05 * sent + burst, (rejected, sent)  # spends few 429s
    assert bucket.rate is not None and 0.8 * rate <= bucket.rate <= 1.3 * rate


def test_pacing_relaxes_within_seconds_once_429s_stop() -> None:
    bucket = PaceBucket(settings=PaceSettings(relax_seconds=10))
    for t in range(20):
        bucket.observe(t * 0.05, 200, Quota())
    bucket.observe(1.0, 429, Quota(retry_after=1))
    assert bucket.rate is not None
    assert bucket.reserve(11.5) == 11.5  # ten quiet seconds later: not paced at all
    assert bucket.rate is None and "relaxed" in bucket.reason


def test_a_spent_quota_waits_for_its_reset_instead_of_spending_a_429() -> None:
    bucket = PaceBucket()
    bucket.observe(0.0, 200, Quota(limit=3, remaining=1, reset_in=10))
    assert bucket.reserve(0.1) == 0.1  # the last request of the window
    bucket.observe(0.15, 200, Quota(limit=3, remaining=0, reset_in=9.85))
    assert bucket.reserve(0.2) == 10.0  # the next one waits for the reset ...
    # ... and the others for its answer (a rolling window may free one slot only)
    assert bucket.awaiting_answer(0.3) == pytest.approx(10.05)
    assert bucket.awaiting_answer(10.01) == pytest.approx(10.06)
    bucket.observe(10.02, 200, Quota(limit=3, remaining=2, reset_in=1))
    assert bucket.awaiting_answer(10.03) is None
    assert [bucket.reserve(10.03) for _ in range(3)] == [10.03, 10.03, pytest.approx(11.02)]


def test_answers_in_flight_do_not_overspend_the_quota() -> None:
    bucket = PaceBucket()
    bucket.observe(0.0, 200, Quota(limit=4, remaining=2, reset_in=5))
    first, second = bucket.reserve(0.1), bucket.reserve(0.1)
    assert first == second == 0.1
    # The first answer still says 1 left (it did not count the second request yet).
    bucket.observe(0.2, 200, Quota(limit=4, remaining=1, reset_in=5))
    assert bucket.reserve(0.3) == pytest.approx(5.2)  # the reset, 5 s after that answer


def test_a_late_answer_never_hands_a_booked_opening_to_a_second_request() -> None:
    # A leaky bucket (Shopify): two requests out, the quota spent by the first answer.
    bucket = PaceBucket()
    bucket.reserve(0.0), bucket.reserve(0.0)
    bucket.observe(0.1, 200, Quota(limit=40, remaining=0, reset_in=0.5))
    assert bucket.reserve(0.15) == pytest.approx(0.6)  # the opening, booked for one
    # The other answer comes late and still counts the older state: "1 left, next in
    # 0.5 s". The opening it describes is the booked one: nobody else takes it.
    bucket.observe(0.2, 200, Quota(limit=40, remaining=1, reset_in=0.5))
    assert bucket.awaiting_answer(0.25) == pytest.approx(0.65)


def test_a_retry_after_beyond_the_cap_blocks_nothing() -> None:
    bucket = PaceBucket(settings=PaceSettings(max_block=3600))
    bucket.observe(0.0, 429, Quota(retry_after=999_999_999))
    assert bucket.blocked_until == 0.0
    # nor paces the scope at one request per 31 years (the floor: one per 100 s)
    assert bucket.rate == 1.0
    bucket.observe(0.0, 429, Quota(retry_after=30))
    assert bucket.blocked_until == 30.0 and "Retry-After" in bucket.block_reason


def test_a_429s_retry_keeps_its_place_in_line() -> None:
    bucket = PaceBucket(rate=10.0, last_429=0.0)
    at = bucket.reserve(0.0, at=1.0)  # taken aside, due after Retry-After
    slots = [bucket.reserve(0.0) for _ in range(12)]
    assert at == 1.0
    assert all(abs(slot - 1.0) >= 0.1 - 1e-9 for slot in slots)  # the line steps over it


def test_a_429s_retry_inside_a_long_line_steps_in_instead_of_going_to_the_back() -> None:
    bucket = PaceBucket(rate=5.0, last_429=0.0)
    tickets = [bucket.take(0.0) for _ in range(200)]  # a 40 s line
    # the first one went at 0.0 and got a 429 with Retry-After: 1
    retry = bucket.take(0.0, at=1.0)
    assert retry.at == pytest.approx(1.0)  # not 40 s away at the back
    due = [bucket.when(t) for t in tickets[1:]]
    # the rate holds: no two places closer than 1/rate, and the others moved back one
    times = sorted([retry.at, *due])
    assert all(b - a >= 0.2 - 1e-9 for a, b in pairwise(times))
    assert due[-1] == pytest.approx(40.0)


def test_places_in_line_move_with_the_rate() -> None:
    """A queue reserved at a cautious first rate is not held to it: when the rate doubles,
    every ticket not yet due comes twice as fast (the peer bench's 10/s limit was used at
    5/s for 13 s because 64 runs had taken fixed times at the first guess)."""
    bucket = PaceBucket(settings=PaceSettings())
    for t in range(10):
        bucket.observe(t * 0.1, 200, Quota())
    bucket.observe(1.0, 429, Quota(retry_after=1))  # paced at what was accepted: ~10/s
    rate = bucket.rate
    assert rate is not None
    line = [bucket.take(1.0) for _ in range(40)]
    assert [bucket.when(s) for s in line] == pytest.approx([s.at for s in line])
    last = bucket.when(line[-1])
    # Half a second later, a success: the rate doubles (slow start below the last cut is
    # not possible here, the ceiling is unknown: the doubling comes from a cut far below).
    bucket.ceiling = 100 * rate
    bucket.observe(1.6, 200, Quota())
    assert bucket.rate == pytest.approx(2 * rate)
    due = [bucket.when(s) for s in line]
    assert due == sorted(due) and due[0] >= 1.0  # still in order, none in the past
    assert due[-1] - 1.6 == pytest.approx((last - 1.6) / 2, abs=0.2)
    # A ticket taken now goes after everyone already in line, at the new pace.
    after = bucket.take(1.6)
    assert after.at == pytest.approx(due[-1] + 1 / bucket.rate)
    # A cut spreads the line out again; a slot the line jumped past keeps its time.
    bucket.observe(2.2, 429, Quota(retry_after=1))
    assert bucket.when(line[-1]) > due[-1]
    aside = bucket.take(2.2, at=500.0)  # a retry due after its Retry-After
    assert aside.ticket is None and bucket.when(aside) == 500.0


def test_breaker_ignores_flakiness_but_opens_on_an_outage() -> None:
    breaker = Breaker(settings=BreakerSettings(burst=5))
    pattern = [False, True, True, True, True] * 20  # 20 % failures, never 5 in a row
    for n, ok in enumerate(pattern):
        (breaker.success if ok else breaker.failure)(n * 0.1, *(() if ok else ("HTTP 503",)))
    assert breaker.state is CircuitState.CLOSED
    for n in range(5):
        breaker.failure(20 + n * 0.1, "HTTP 503")
    assert breaker.state is CircuitState.OPEN and "5 failures in a row" in breaker.reason


def test_breaker_probes_sooner_than_doubling_and_follows_retry_after() -> None:
    breaker = Breaker(settings=BreakerSettings(burst=1, first_probe=0.5, growth=1.25))
    breaker.failure(0.0, "HTTP 503")
    waits = []
    now = 0.0
    for _ in range(4):
        now = breaker.retry_at
        assert breaker.wait(now) == 0.0  # this call is the probe
        assert breaker.wait(now) > 0  # everyone else waits for it
        breaker.failure(now, "HTTP 503")
        waits.append(round(breaker.retry_at - now, 4))
    assert waits == [0.625, 0.7812, 0.9766, 1.2207]
    breaker.wait(breaker.retry_at)
    breaker.failure(breaker.retry_at, "HTTP 503", retry_after=7)
    assert breaker.retry_at - now == pytest.approx(1.2207 + 7, abs=1e-3)
    assert breaker.wait(breaker.retry_at) == 0.0
    assert breaker.success(breaker.retry_at) and breaker.state is CircuitState.CLOSED
