"""`ErrorContext`: everything diagnosis reads about one failed step.

One type shared by the engine (which captures it) and diagnosis (which reads it, also
from `kyra diagnose` JSON lines, so every field has a default). Secrets are redacted
before a context is built; nothing downstream ever sees a raw secret.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

BODY_EXCERPT_LIMIT = 2048


class ErrorContext(BaseModel):
    """A failed step, as the spec's error_context plus the structured StepError fields."""

    model_config = ConfigDict(extra="ignore")

    # Where it happened (empty when read from `kyra diagnose` input).
    tenant_id: str | None = None
    workflow_id: str | None = None
    workflow_name: str | None = None
    execution_id: str | None = None
    step_name: str | None = None
    step_index: int | None = None
    timestamp: datetime = Field(default_factory=lambda: datetime.now(UTC))

    # What failed: the StepError fields.
    step_action: str | None = None
    provider: str | None = None
    status_code: int | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    error_type: str | None = None
    error_message: str = ""
    retry_after: float | None = None
    elapsed_seconds: float | None = None
    attempt: int | None = None

    # The surroundings: inputs, outputs so far, params of the failing step (redacted).
    execution_context: dict[str, Any] = Field(default_factory=dict)
    previous_executions: list[dict[str, Any]] = Field(default_factory=list)
    config_version: int | None = None

    @field_validator("headers", mode="before")
    @classmethod
    def _headers_as_strings(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value

    @field_validator("body", mode="before")
    @classmethod
    def _bounded_body(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value) > BODY_EXCERPT_LIMIT:
            return value[:BODY_EXCERPT_LIMIT]
        return value

    @field_validator("error_message", mode="before")
    @classmethod
    def _message_not_none(cls, value: Any) -> Any:
        return "" if value is None else value

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup (HTTP header names are case-insensitive)."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None

    @classmethod
    def from_exception(
        cls, exc: BaseException, *, provider: str | None = None, step: str | None = None
    ) -> ErrorContext:
        """The context of an exception raised outside a Kyra workflow (a tenacity-wrapped
        call, a Celery task, a Prefect flow): status, headers, body, Retry-After and the
        transport failure, read from httpx, requests, aiohttp, urllib3, botocore, smtplib
        and DB-API errors (see `kyra.engine.exception_fields`). `provider` names the
        service for diagnosis (`stripe`, `google`); `step` names what was being done."""
        from kyra.engine.exception_fields import exception_fields

        return cls(step_name=step, **exception_fields(exc, provider=provider))
