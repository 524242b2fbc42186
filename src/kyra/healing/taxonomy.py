"""The error taxonomy and the closed vocabulary of fix steps.

One table (`TAXONOMY`) decides, per error class, its safety colour, the spec's
classification, its default severity, whether it may be repaired automatically and which
fix steps are allowed. Diagnosis tiers only choose a class (and, for the LLM, steps from
that class's allowed set): safety and auto-repair always come from this table, never from
a model's word, so text in an error body cannot widen what a fix may do.

Class boundaries that are easy to confuse:
- `timeout_error`: the request was sent but the answer took too long (read timeout, 408, 504).
- `connection_timeout`: no connection could be made (connect timeout, refused, reset, DNS).
- `invalid_parameter_format`: a request parameter is malformed or unknown to the API.
- `data_validation_error`: the record's data fails the API's or a schema's validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorClass(StrEnum):
    """The spec's 15 error classes plus `unknown` (treated as RED)."""

    RATE_LIMIT_EXCEEDED = "rate_limit_exceeded"
    TIMEOUT_ERROR = "timeout_error"
    SERVICE_TEMPORARILY_UNAVAILABLE = "service_temporarily_unavailable"
    INVALID_DATE_FORMAT = "invalid_date_format"
    CONNECTION_TIMEOUT = "connection_timeout"
    MISSING_REQUIRED_FIELD = "missing_required_field"
    INVALID_PARAMETER_FORMAT = "invalid_parameter_format"
    API_VERSION_MISMATCH = "api_version_mismatch"
    DATA_VALIDATION_ERROR = "data_validation_error"
    INVALID_CREDENTIALS = "invalid_credentials"
    INSUFFICIENT_PERMISSIONS = "insufficient_permissions"
    ACCOUNT_SUSPENDED = "account_suspended"
    API_DEPRECATED = "api_deprecated"
    BILLING_ISSUE = "billing_issue"
    SECURITY_VIOLATION = "security_violation"
    UNKNOWN = "unknown"


class Safety(StrEnum):
    """GREEN: auto-fix. YELLOW: suggest and ask. RED: diagnose only, touch nothing."""

    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


class Classification(StrEnum):
    """The spec's four root-cause families."""

    TEMPORAL = "TEMPORAL"
    CONFIGURATION = "CONFIGURATION"
    CREDENTIALS = "CREDENTIALS"
    API_CHANGE = "API_CHANGE"


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class FixStep(StrEnum):
    """Typed fix steps; the healing loop maps each to a bounded config patch or a task.

    Steps in `MANUAL_STEPS` are instructions for a person and never change config.
    """

    HONOUR_RETRY_AFTER = "honour_retry_after"
    INCREASE_REQUEST_DELAY = "increase_request_delay"
    SET_RETRY_EXPONENTIAL = "set_retry_exponential"
    SCHEDULE_RETRY_BACKOFF = "schedule_retry_backoff"
    INCREASE_TIMEOUT = "increase_timeout"
    NORMALISE_DATE_FIELD = "normalise_date_field"
    SET_DATE_FORMAT = "set_date_format"
    SET_FIELD_DEFAULT = "set_field_default"
    FIX_PARAMETER_FORMAT = "fix_parameter_format"
    SET_API_VERSION = "set_api_version"
    REVIEW_INPUT_DATA = "review_input_data"
    RECONNECT_CREDENTIALS = "reconnect_credentials"
    GRANT_PERMISSIONS = "grant_permissions"
    CONTACT_PROVIDER = "contact_provider"
    UPDATE_BILLING = "update_billing"
    MIGRATE_API = "migrate_api"
    REVIEW_SECURITY = "review_security"
    CHECK_ENDPOINT = "check_endpoint"
    NOTIFY_USER = "notify_user"


MANUAL_STEPS: frozenset[FixStep] = frozenset(
    {
        FixStep.REVIEW_INPUT_DATA,
        FixStep.RECONNECT_CREDENTIALS,
        FixStep.GRANT_PERMISSIONS,
        FixStep.CONTACT_PROVIDER,
        FixStep.UPDATE_BILLING,
        FixStep.MIGRATE_API,
        FixStep.REVIEW_SECURITY,
        FixStep.CHECK_ENDPOINT,
        FixStep.NOTIFY_USER,
    }
)


@dataclass(frozen=True)
class ClassInfo:
    """What the taxonomy says about one error class."""

    safety: Safety
    classification: Classification
    severity: Severity
    auto_reparable: bool
    default_steps: tuple[FixStep, ...]
    allowed_steps: frozenset[FixStep]


def _info(
    safety: Safety,
    classification: Classification,
    severity: Severity,
    default: tuple[FixStep, ...],
    extra: tuple[FixStep, ...] = (),
) -> ClassInfo:
    return ClassInfo(
        safety=safety,
        classification=classification,
        severity=severity,
        auto_reparable=safety is Safety.GREEN,
        default_steps=default,
        allowed_steps=frozenset((*default, *extra, FixStep.NOTIFY_USER)),
    )


_G, _Y, _R = Safety.GREEN, Safety.YELLOW, Safety.RED
_T, _C = Classification.TEMPORAL, Classification.CONFIGURATION
_K, _A = Classification.CREDENTIALS, Classification.API_CHANGE
_L, _M, _H, _X = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL
F = FixStep

TAXONOMY: dict[ErrorClass, ClassInfo] = {
    ErrorClass.RATE_LIMIT_EXCEEDED: _info(
        _G,
        _T,
        _M,
        (F.HONOUR_RETRY_AFTER, F.INCREASE_REQUEST_DELAY, F.SET_RETRY_EXPONENTIAL),
        (F.SCHEDULE_RETRY_BACKOFF,),
    ),
    ErrorClass.TIMEOUT_ERROR: _info(
        _G, _T, _L, (F.INCREASE_TIMEOUT, F.SET_RETRY_EXPONENTIAL), (F.SCHEDULE_RETRY_BACKOFF,)
    ),
    ErrorClass.SERVICE_TEMPORARILY_UNAVAILABLE: _info(
        _G,
        _T,
        _M,
        (F.SCHEDULE_RETRY_BACKOFF, F.SET_RETRY_EXPONENTIAL),
        (F.HONOUR_RETRY_AFTER, F.INCREASE_REQUEST_DELAY),
    ),
    ErrorClass.INVALID_DATE_FORMAT: _info(
        _G, _C, _L, (F.NORMALISE_DATE_FIELD,), (F.SET_DATE_FORMAT, F.REVIEW_INPUT_DATA)
    ),
    ErrorClass.CONNECTION_TIMEOUT: _info(
        _G,
        _T,
        _L,
        (F.SCHEDULE_RETRY_BACKOFF, F.SET_RETRY_EXPONENTIAL),
        (F.INCREASE_TIMEOUT, F.CHECK_ENDPOINT),
    ),
    ErrorClass.MISSING_REQUIRED_FIELD: _info(
        _Y, _C, _M, (F.SET_FIELD_DEFAULT,), (F.REVIEW_INPUT_DATA,)
    ),
    ErrorClass.INVALID_PARAMETER_FORMAT: _info(
        _Y, _C, _M, (F.FIX_PARAMETER_FORMAT,), (F.REVIEW_INPUT_DATA, F.CHECK_ENDPOINT)
    ),
    ErrorClass.API_VERSION_MISMATCH: _info(_Y, _A, _M, (F.SET_API_VERSION,), (F.MIGRATE_API,)),
    ErrorClass.DATA_VALIDATION_ERROR: _info(
        _Y, _C, _M, (F.REVIEW_INPUT_DATA,), (F.FIX_PARAMETER_FORMAT, F.SET_FIELD_DEFAULT)
    ),
    ErrorClass.INVALID_CREDENTIALS: _info(_R, _K, _H, (F.RECONNECT_CREDENTIALS,)),
    ErrorClass.INSUFFICIENT_PERMISSIONS: _info(
        _R, _K, _H, (F.GRANT_PERMISSIONS,), (F.RECONNECT_CREDENTIALS,)
    ),
    ErrorClass.ACCOUNT_SUSPENDED: _info(_R, _K, _X, (F.CONTACT_PROVIDER,), (F.UPDATE_BILLING,)),
    ErrorClass.API_DEPRECATED: _info(_R, _A, _H, (F.MIGRATE_API,), (F.CONTACT_PROVIDER,)),
    ErrorClass.BILLING_ISSUE: _info(_R, _K, _H, (F.UPDATE_BILLING,), (F.CONTACT_PROVIDER,)),
    ErrorClass.SECURITY_VIOLATION: _info(_R, _K, _X, (F.REVIEW_SECURITY,), (F.CONTACT_PROVIDER,)),
    ErrorClass.UNKNOWN: _info(_R, _C, _H, (F.NOTIFY_USER,), (F.REVIEW_INPUT_DATA,)),
}

AUTO_FIX_MIN_CONFIDENCE = 80
"""The spec's threshold: below it even a GREEN class is only suggested."""


def info(error_class: ErrorClass) -> ClassInfo:
    """The taxonomy row of `error_class`."""
    return TAXONOMY[error_class]


def classes_of(safety: Safety) -> list[ErrorClass]:
    """The classes of one safety colour, in table order."""
    return [cls for cls, row in TAXONOMY.items() if row.safety is safety]


def allowed_steps(error_class: ErrorClass, steps: list[FixStep]) -> list[FixStep]:
    """`steps` filtered to what `error_class` allows, in order, without duplicates;
    the class's defaults when nothing is left."""
    allowed = TAXONOMY[error_class].allowed_steps
    kept = list(dict.fromkeys(step for step in steps if step in allowed))
    return kept or list(TAXONOMY[error_class].default_steps)
