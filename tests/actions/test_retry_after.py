"""Retry hints from the headers (and bodies) providers actually send."""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

import pytest

from kyra.actions.httperrors import parse_retry_after
from kyra.redaction import safe_url

NOW = 1_750_000_000.0


@pytest.mark.parametrize(
    ("headers", "body", "status", "expected"),
    [
        ({"Retry-After": "7"}, None, 429, 7.0),
        ({"retry-after": "1.5"}, None, 503, 1.5),
        ({"Retry-After": formatdate(NOW + 42, usegmt=True)}, None, 503, 42.0),
        ({"Retry-After": formatdate(NOW - 42, usegmt=True)}, None, 503, 0.0),
        ({"Retry-After": "-3"}, None, 429, 0.0),
        ({"Retry-After-Ms": "250"}, None, 429, 0.25),
        ({"X-RateLimit-Reset": str(int(NOW + 30)), "X-RateLimit-Remaining": "0"}, None, 403, 30.0),
        ({"X-RateLimit-Reset": "12"}, None, 429, 12.0),
        ({"RateLimit-Reset": "5", "RateLimit-Remaining": "0"}, None, 429, 5.0),
        ({"X-RateLimit-Reset": str(int(NOW + 30)), "X-RateLimit-Remaining": "59"}, None, 403, None),
        (
            {
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "6m0s",
                "x-ratelimit-remaining-tokens": "0",
                "x-ratelimit-reset-tokens": "20ms",
            },
            None,
            429,
            360.0,
        ),
        (
            {"x-ratelimit-remaining-requests": "2", "x-ratelimit-reset-requests": "1s"},
            None,
            429,
            None,
        ),
        ({}, {"ok": False, "error": "ratelimited", "retry_after": 3}, 429, 3.0),
        ({}, {"ok": False, "parameters": {"retry_after": 9}}, 429, 9.0),
        ({"Retry-After": "soon"}, None, 429, None),
        ({}, None, 500, None),
    ],
)
def test_parse_retry_after(
    headers: dict[str, str], body: Any, status: int, expected: float | None
) -> None:
    assert parse_retry_after(headers, body, status_code=status, now=NOW) == (
        pytest.approx(expected, abs=0.01) if expected is not None else None
    )


def test_safe_url_drops_credentials_query_and_fragment() -> None:
    url = "https://user:pw@api.example.com:8443/v1/x?token=abc#frag"
    assert safe_url(url) == "https://api.example.com:8443/v1/x"
