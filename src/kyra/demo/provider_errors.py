"""Canned provider errors, shaped as each provider's public documentation shows them.

`/provider/{name}/{case}` on the fault server answers with these, so demos and
end-to-end tests exercise diagnosis on realistic bodies and headers. Cases that carry a
`Retry-After` take `?retry_after=S` to shorten it for tests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from kyra.demo._http import Reply, Request

Header = tuple[str, str]


def _retry_after(req: Request, default: float) -> Header:
    return ("Retry-After", str(math.ceil(req.number("retry_after", default, high=86400))))


def _text(status: int, text: str, headers: list[Header] | None = None) -> Reply:
    return Reply(
        status, headers=headers or [], raw=text.encode(), content_type="text/plain; charset=utf-8"
    )


def _google_rate_limit(req: Request) -> Reply:
    return Reply(
        403,
        {
            "error": {
                "code": 403,
                "message": "Rate Limit Exceeded",
                "status": "PERMISSION_DENIED",
                "errors": [
                    {
                        "message": "Rate Limit Exceeded",
                        "domain": "usageLimits",
                        "reason": "rateLimitExceeded",
                    }
                ],
            }
        },
    )


def _google_user_rate_limit(req: Request) -> Reply:
    return Reply(
        403,
        {
            "error": {
                "code": 403,
                "message": "User Rate Limit Exceeded",
                "errors": [
                    {
                        "message": "User Rate Limit Exceeded",
                        "domain": "usageLimits",
                        "reason": "userRateLimitExceeded",
                    }
                ],
            }
        },
    )


def _google_quota(req: Request) -> Reply:
    return Reply(
        429,
        {
            "error": {
                "code": 429,
                "status": "RESOURCE_EXHAUSTED",
                "message": "Quota exceeded for quota metric 'Queries' and limit "
                "'Queries per minute per user' of service 'gmail.googleapis.com'.",
                "errors": [
                    {"message": "Quota exceeded", "domain": "global", "reason": "rateLimitExceeded"}
                ],
            }
        },
        [_retry_after(req, 60)],
    )


def _google_permission(req: Request) -> Reply:
    """Drive/Gmail answer a token without the needed scope with 403 PERMISSION_DENIED."""
    return Reply(
        403,
        {
            "error": {
                "code": 403,
                "status": "PERMISSION_DENIED",
                "message": "Request had insufficient authentication scopes.",
                "errors": [
                    {
                        "message": "Insufficient Permission",
                        "domain": "global",
                        "reason": "insufficientPermissions",
                    }
                ],
            }
        },
    )


def _google_auth(req: Request) -> Reply:
    return Reply(
        401,
        {
            "error": {
                "code": 401,
                "status": "UNAUTHENTICATED",
                "message": "Request had invalid authentication credentials. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential.",
                "errors": [
                    {
                        "message": "Invalid Credentials",
                        "domain": "global",
                        "reason": "authError",
                        "location": "Authorization",
                        "locationType": "header",
                    }
                ],
            }
        },
        [
            (
                "WWW-Authenticate",
                'Bearer realm="https://accounts.google.com/", error="invalid_token"',
            )
        ],
    )


def _slack_ratelimited(req: Request) -> Reply:
    return Reply(429, {"ok": False, "error": "ratelimited"}, [_retry_after(req, 30)])


def _slack_api_error(code: str) -> Callable[[Request], Reply]:
    return lambda req: Reply(200, {"ok": False, "error": code})


def _stripe_card_declined(req: Request) -> Reply:
    return Reply(
        402,
        {
            "error": {
                "code": "card_declined",
                "decline_code": "generic_decline",
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                "message": "Your card was declined.",
                "type": "card_error",
                "charge": "ch_3Kq0000000000000000000",
            }
        },
        [("Request-Id", "req_kyrafault0001")],
    )


def _stripe_rate_limit(req: Request) -> Reply:
    return Reply(
        429,
        {
            "error": {
                "code": "rate_limit",
                "type": "invalid_request_error",
                "message": "Request rate limit exceeded. Learn more about rate limits here "
                "https://stripe.com/docs/rate-limits.",
            }
        },
        [("Request-Id", "req_kyrafault0002")],
    )


def _stripe_auth(req: Request) -> Reply:
    return Reply(
        401,
        {
            "error": {
                "type": "invalid_request_error",
                "message": "Invalid API Key provided: sk_test_********************1234",
            }
        },
    )


def _github_secondary(req: Request) -> Reply:
    return Reply(
        403,
        {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
            "before you try again.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-"
            "api#about-secondary-rate-limits",
        },
        [_retry_after(req, 60), ("X-GitHub-Request-Id", "KYRA:0001")],
    )


def _github_rate_limit(req: Request) -> Reply:
    reset = math.ceil(time.time() + req.number("retry_after", 60, high=86400))
    return Reply(
        403,
        {
            "message": "API rate limit exceeded for 127.0.0.1. (But here's the good news: "
            "Authenticated requests get a higher rate limit.)",
            "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-"
            "api#rate-limiting",
        },
        [
            ("X-RateLimit-Limit", "60"),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Used", "60"),
            ("X-RateLimit-Reset", str(reset)),
            ("X-RateLimit-Resource", "core"),
        ],
    )


def _github_bad_credentials(req: Request) -> Reply:
    return Reply(
        401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
    )


def _openai_error(message: str, type_: str, code: str | None) -> dict[str, object]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def _openai_insufficient_quota(req: Request) -> Reply:
    return Reply(
        429,
        _openai_error(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        ),
    )


def _openai_rate_limit(req: Request) -> Reply:
    wait = req.number("retry_after", 20, high=86400)
    return Reply(
        429,
        _openai_error(
            "Rate limit reached for gpt-4o-mini in organization org-kyra on requests per "
            f"min (RPM): Limit 3, Used 3, Requested 1. Please try again in {wait:g}s.",
            "requests",
            "rate_limit_exceeded",
        ),
        [
            ("x-ratelimit-limit-requests", "3"),
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", f"{wait:g}s"),
            ("x-ratelimit-limit-tokens", "40000"),
            ("x-ratelimit-remaining-tokens", "39950"),
            ("x-ratelimit-reset-tokens", "75ms"),
        ],
    )


def _openai_invalid_key(req: Request) -> Reply:
    return Reply(
        401,
        _openai_error(
            "Incorrect API key provided: sk-proj-****abcd. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        ),
    )


def _openai_server_error(req: Request) -> Reply:
    return Reply(
        500,
        _openai_error(
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        ),
    )


def _anthropic_overloaded(req: Request) -> Reply:
    return Reply(
        529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    )


def _anthropic_rate_limit(req: Request) -> Reply:
    return Reply(
        429,
        {
            "type": "error",
            "error": {
                "type": "rate_limit_error",
                "message": "Number of requests has exceeded your per-minute rate limit.",
            },
        },
        [
            _retry_after(req, 15),
            ("anthropic-ratelimit-requests-limit", "50"),
            ("anthropic-ratelimit-requests-remaining", "0"),
        ],
    )


def _microsoft_throttled(req: Request) -> Reply:
    return Reply(
        429,
        {
            "error": {
                "code": "TooManyRequests",
                "message": "Too many requests, please retry after a while.",
                "innerError": {"code": "throttledRequest", "request-id": "kyra-fault-0001"},
            }
        },
        [_retry_after(req, 10)],
    )


def _teams_relayed_429(req: Request) -> Reply:
    return _text(
        200,
        "Webhook message delivery failed with error: Microsoft Teams endpoint "
        "returned HTTP error 429 with ContextId tcid=0,server=msgapi-kyra,cv=0.",
    )


def _twilio_rate_limit(req: Request) -> Reply:
    return Reply(
        429,
        {
            "code": 20429,
            "message": "Too Many Requests",
            "more_info": "https://www.twilio.com/docs/errors/20429",
            "status": 429,
        },
    )


CANNED: dict[tuple[str, str], Callable[[Request], Reply]] = {
    ("google", "rate_limit"): _google_rate_limit,
    ("google", "user_rate_limit"): _google_user_rate_limit,
    ("google", "quota"): _google_quota,
    ("google", "auth"): _google_auth,
    ("google", "permission"): _google_permission,
    ("slack", "ratelimited"): _slack_ratelimited,
    ("slack", "channel_not_found"): _slack_api_error("channel_not_found"),
    ("slack", "invalid_auth"): _slack_api_error("invalid_auth"),
    ("slack", "invalid_payload"): lambda req: _text(400, "invalid_payload"),
    ("slack", "no_service"): lambda req: _text(404, "no_service"),
    ("slack", "channel_is_archived"): lambda req: _text(410, "channel_is_archived"),
    ("stripe", "card_declined"): _stripe_card_declined,
    ("stripe", "rate_limit"): _stripe_rate_limit,
    ("stripe", "auth"): _stripe_auth,
    ("github", "secondary_rate_limit"): _github_secondary,
    ("github", "rate_limit"): _github_rate_limit,
    ("github", "bad_credentials"): _github_bad_credentials,
    ("openai", "insufficient_quota"): _openai_insufficient_quota,
    ("openai", "rate_limit"): _openai_rate_limit,
    ("openai", "invalid_api_key"): _openai_invalid_key,
    ("openai", "server_error"): _openai_server_error,
    ("anthropic", "overloaded"): _anthropic_overloaded,
    ("anthropic", "rate_limit"): _anthropic_rate_limit,
    ("microsoft", "throttled"): _microsoft_throttled,
    ("microsoft", "teams_relayed_429"): _teams_relayed_429,
    ("twilio", "rate_limit"): _twilio_rate_limit,
}
"""(provider, case) -> reply builder; `/provider/{name}/{case}` looks cases up here."""


def provider_reply(name: str, case: str, req: Request) -> Reply | None:
    builder = CANNED.get((name.lower(), case.lower()))
    return None if builder is None else builder(req)
