from __future__ import annotations

from kyra.healing.taxonomy import (
    MANUAL_STEPS,
    TAXONOMY,
    ErrorClass,
    FixStep,
    Safety,
    allowed_steps,
    classes_of,
)


def test_safety_colours_are_the_specs() -> None:
    assert {c.value for c in classes_of(Safety.GREEN)} == {
        "rate_limit_exceeded",
        "timeout_error",
        "service_temporarily_unavailable",
        "invalid_date_format",
        "connection_timeout",
    }
    assert {c.value for c in classes_of(Safety.YELLOW)} == {
        "missing_required_field",
        "invalid_parameter_format",
        "api_version_mismatch",
        "data_validation_error",
    }
    assert {c.value for c in classes_of(Safety.RED)} == {
        "invalid_credentials",
        "insufficient_permissions",
        "account_suspended",
        "api_deprecated",
        "billing_issue",
        "security_violation",
        "unknown",
    }


def test_only_green_is_auto_reparable_and_red_steps_are_manual() -> None:
    assert set(TAXONOMY) == set(ErrorClass)
    for cls, row in TAXONOMY.items():
        assert row.auto_reparable is (row.safety is Safety.GREEN), cls
        assert set(row.default_steps) <= row.allowed_steps
        if row.safety is Safety.RED:
            assert row.allowed_steps <= MANUAL_STEPS, cls


def test_allowed_steps_filters_and_falls_back_to_defaults() -> None:
    got = allowed_steps(ErrorClass.INVALID_CREDENTIALS, [FixStep.INCREASE_TIMEOUT])
    assert got == [FixStep.RECONNECT_CREDENTIALS]
    got = allowed_steps(
        ErrorClass.RATE_LIMIT_EXCEEDED,
        [FixStep.INCREASE_REQUEST_DELAY, FixStep.GRANT_PERMISSIONS, FixStep.INCREASE_REQUEST_DELAY],
    )
    assert got == [FixStep.INCREASE_REQUEST_DELAY]
