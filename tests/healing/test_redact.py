from __future__ import annotations

from kyra.redaction import MASK as REDACTED
from kyra.redaction import redact


def test_patterns_and_known_secrets_are_redacted_recursively() -> None:
    value = {
        "Authorization": "Bearer abc.def.ghi",
        "headers": {"X-Api-Key": "k-123456", "Cookie": "session=1", "Accept": "json"},
        "text": "key sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA,"
        " gh ghp_0123456789abcdefghijABCDEFGHIJ012345,"
        " stripe rk_live_0123456789abcdef,"
        " sendgrid SG.abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWX,"
        " mail ana@example.com tel +14155552671 url https://u:pw1234@host.example/x",
        "list": ["my-tenant-secret", ("nested my-tenant-secret",)],
    }
    out = redact(value, secrets=["my-tenant-secret"], personal=True)
    assert out["Authorization"] == REDACTED
    assert out["headers"]["X-Api-Key"] == REDACTED and out["headers"]["Cookie"] == REDACTED
    assert out["headers"]["Accept"] == "json"
    for leaked in (
        "sk-ant-api03",
        "ghp_0123",
        "rk_live_",
        "SG.abcdef",
        "ana@example.com",
        "+14155552671",
        "pw1234",
        "my-tenant-secret",
    ):
        assert leaked not in str(out), leaked
    assert "https://u:[REDACTED]@host.example/x" in out["text"]


def test_ordinary_diagnostic_text_survives() -> None:
    text = "HTTP 429 at 2026-11-26T10:00:00Z, retry after 30 s, version 2024-06-20, id 1234"
    assert redact(text) == text
    assert redact(42) == 42


def test_a_url_password_is_masked_with_or_without_a_user() -> None:
    # The CLI prints broker and database URLs through this module (kyra scheduler, serve,
    # init): Redis URLs often carry a password and no user.
    assert redact("redis://:s3cret-pass@127.0.0.1:6379/0") == "redis://:[REDACTED]@127.0.0.1:6379/0"
    assert redact("amqp://guest:guest-pw@mq:5672//") == "amqp://guest:[REDACTED]@mq:5672//"
    assert redact("http://host:8080/a@b") == "http://host:8080/a@b"
