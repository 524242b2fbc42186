"""Request and response bodies of the REST API (the OpenAPI schema is built from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kyra.errors import InputError
from kyra.inputs import check_depth


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class WorkflowIn(_In):
    """A workflow document: `source` (YAML or JSON text) or `definition` (an object)."""

    source: str | None = Field(default=None, max_length=1_000_000)
    definition: dict[str, Any] | None = None
    replace: bool = False
    """Update the workflow of the same name instead of failing with 409."""

    @model_validator(mode="after")
    def _one_document(self) -> WorkflowIn:
        if (self.source is None) == (self.definition is None):
            raise ValueError("give exactly one of `source` (YAML/JSON text) or `definition`")
        return self


class WorkflowSummary(BaseModel):
    id: str
    name: str
    description: str
    state: str
    state_reason: str
    config_version: int
    trigger: dict[str, Any]
    steps: list[str]
    webhook: dict[str, Any] | None = None
    updated_at: datetime


class ConfigVersionOut(BaseModel):
    version: int
    author: str
    reason: str
    fix_id: str | None
    created_at: datetime
    config: dict[str, Any]


class StateChangeOut(BaseModel):
    from_state: str
    to_state: str
    reason: str
    execution_id: str | None
    at: datetime


class WorkflowDetail(WorkflowSummary):
    config: dict[str, Any]
    config_history: list[ConfigVersionOut]
    state_history: list[StateChangeOut]


class WorkflowSaved(WorkflowSummary):
    created: bool


class RunIn(_In):
    inputs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("inputs")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            check_depth(value)
        except InputError as exc:
            raise ValueError(exc.reason) from None
        return value


class StepOut(BaseModel):
    index: int
    name: str
    action: str
    status: str
    attempts: int
    duration_ms: float
    reused: bool
    output: Any = None
    error: dict[str, Any] | None = None


class ExecutionOut(BaseModel):
    id: str
    workflow: str
    status: str
    trigger: str
    config_version: int | None
    resume_of: str | None
    failed_step: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: float | None


class ExecutionDetail(ExecutionOut):
    inputs: dict[str, Any]
    error_context: dict[str, Any] | None
    steps: list[StepOut]


class RunAccepted(BaseModel):
    execution_id: str
    status: str
    workflow: str


class RunOut(BaseModel):
    execution_id: str
    workflow: str
    status: str
    failed_step: str | None
    duration_ms: float
    outputs: dict[str, Any]
    error: dict[str, Any] | None
    healing: list[str]
    executions: list[str]
    workflow_state: str


class FixOut(BaseModel):
    id: str
    workflow: str
    error_class: str
    safety: str
    status: str
    outcome: str
    reason: str
    diff: list[dict[str, Any]]
    patch: list[dict[str, Any]]
    confidence: int
    tier: str
    from_version: int | None
    to_version: int | None
    execution_id: str | None
    rerun_execution_id: str | None
    cost: float
    decided_by: str | None
    created_at: datetime
    verified_at: datetime | None


class AuditOut(BaseModel):
    id: int
    kind: str
    actor: str
    workflow: str | None
    fix_id: str | None
    execution_id: str | None
    summary: str
    details: dict[str, Any]
    cost: float
    at: datetime


class FixDetail(FixOut):
    diagnosis: dict[str, Any]
    audit: list[AuditOut]


class ApproveIn(_In):
    value: Any = None
    """Use this value for the proposed field instead of Kyra's suggestion."""


class ReasonIn(_In):
    reason: str = Field(default="", max_length=2000)


class FixDecision(BaseModel):
    fix: FixOut
    workflow_state: str
    rerun_execution_id: str | None = None
    rerun_status: str | None = None


class KillSwitchIn(_In):
    enabled: bool
    reason: str = Field(default="", max_length=2000)


class KillSwitchOut(BaseModel):
    enabled: bool
    scope: Literal["tenant", "global"] | None
    reason: str
    stopped_fixes: list[str] = Field(default_factory=list)


class TenantSettingsIn(_In):
    downtime_value_per_hour: float | None = Field(default=None, ge=0, le=1_000_000)
    manual_repair_hours: float | None = Field(default=None, ge=0, le=720)
    dashboard_base_url: str | None = Field(
        default=None, max_length=500, pattern=r"^https?://[^\s]+$"
    )
    lang: Literal["en", "es"] | None = None


class UsageOut(BaseModel):
    month_start: datetime
    fixes_used: int
    fixes_included: int
    cost_used: float
    cost_limit: float
    safeties: list[str]


class TenantOut(BaseModel):
    id: str
    name: str
    tier: str
    lang: str
    downtime_value_per_hour: float
    manual_repair_hours: float
    dashboard_base_url: str | None
    usage: UsageOut


class ApiKeyIn(_In):
    name: str = Field(default="", max_length=100)


class ApiKeyOut(BaseModel):
    prefix: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class ApiKeyCreated(ApiKeyOut):
    key: str
    """The full key. It is shown only now: store it safely."""


class WebhookIn(_In):
    signing_secret: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
    """Name of an existing tenant secret to sign bodies with; omitted: Kyra makes one."""


class WebhookCreated(BaseModel):
    hook_id: str
    url: str
    token: str
    """Send as `X-Kyra-Token`. Shown only now."""
    signing_secret_name: str
    signing_secret: str | None
    """The HMAC key when Kyra generated it (shown only now); None when you named yours."""


class HookAccepted(BaseModel):
    execution_id: str
    status: str
