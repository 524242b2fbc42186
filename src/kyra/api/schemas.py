"""Request and response bodies of the REST API (the OpenAPI schema is built from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kyra.errors import InputError
from kyra.inputs import check_depth


class _Out(BaseModel):
    """Response bodies: attribute docstrings become the OpenAPI property descriptions."""

    model_config = ConfigDict(use_attribute_docstrings=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class Problem(_Out):
    """An error, as RFC 9457 problem details (`application/problem+json`)."""

    type: str
    """`urn:kyra:problem:<code>`: identifies the kind of problem."""
    title: str
    """The HTTP status phrase."""
    status: int
    """The HTTP status code."""
    detail: str
    """What went wrong, for people (wording may change; match on `code`)."""
    code: str
    """Stable machine-readable error code, e.g. `not_found`, `workflow_exists`."""
    details: Any = None
    """Structured extras: the problems of an invalid workflow, the failing fields of a
    validation error, the current state of an illegal transition; null otherwise."""


class WorkflowIn(_In):
    """A workflow document: `source` (YAML or JSON text) or `definition` (an object)."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["source"]}, {"required": ["definition"]}]}
    )

    source: str | None = Field(default=None, max_length=1_000_000)
    """The workflow as YAML or JSON text (what `kyra workflows apply` reads)."""
    definition: dict[str, Any] | None = None
    """The workflow as an object: `name`, `trigger`, `steps`, `config`..."""
    replace: bool = False
    """Update the workflow of the same name instead of failing with 409."""

    @model_validator(mode="after")
    def _one_document(self) -> WorkflowIn:
        if (self.source is None) == (self.definition is None):
            raise ValueError("give exactly one of `source` (YAML/JSON text) or `definition`")
        return self


class WebhookRef(_Out):
    hook_id: str
    """Random id naming this workflow's webhook (part of its URL)."""
    url: str
    """Where to POST to trigger a run."""
    signing_secret_name: str
    """The tenant secret that signs request bodies (`X-Kyra-Signature`)."""


class WorkflowSummary(_Out):
    id: str
    """Kyra's id of the workflow."""
    name: str
    """Unique name within the tenant (used in every URL)."""
    description: str
    """Free text from the document."""
    state: str
    """`active`, `inactive`, `failed`, `fixing`, `needs_attention`..."""
    state_reason: str
    """Why the workflow is in its state (the last transition's reason)."""
    config_version: int
    """The current config version (each fix or edit adds one)."""
    trigger: dict[str, Any]
    """What starts a run: manual, cron, interval or webhook."""
    steps: list[str]
    """Step names, in order."""
    webhook: WebhookRef | None = None
    """The webhook, if one was created for a `trigger: webhook` workflow."""
    updated_at: datetime
    """Last change of the definition, config or state."""


class ConfigVersionOut(_Out):
    version: int
    """Version number, from 1."""
    author: str
    """`user`, or `kyra` for a fix."""
    reason: str
    """Why this version was made."""
    fix_id: str | None
    """The fix that made it, if any."""
    created_at: datetime
    """When it was made."""
    config: dict[str, Any]
    """The config of this version."""


class StateChangeOut(_Out):
    from_state: str
    """State before."""
    to_state: str
    """State after."""
    reason: str
    """Why it changed."""
    execution_id: str | None
    """The execution that caused it, if any."""
    at: datetime
    """When it changed."""


class WorkflowDetail(WorkflowSummary):
    config: dict[str, Any]
    """The current config (timeouts, retries, params Kyra may tune)."""
    config_history: list[ConfigVersionOut]
    """Every config version, oldest first."""
    state_history: list[StateChangeOut]
    """Every state change, oldest first."""


class CarriedFix(BaseModel):
    fix_id: str
    error_class: str
    reason: str
    """Why the fix was kept or retired, in the tenant's language."""
    reason_key: str


class CarriedFixes(BaseModel):
    """Kyra's applied fixes after a replace: re-applied on top of the new definition
    (`kept`) or retired because they no longer fit (`retired`)."""

    kept: list[CarriedFix] = Field(default_factory=list)
    retired: list[CarriedFix] = Field(default_factory=list)


class WorkflowSaved(WorkflowSummary):
    created: bool
    """True when created, false when an existing workflow was replaced."""
    fixes: CarriedFixes = Field(default_factory=CarriedFixes)


class RunIn(_In):
    inputs: dict[str, Any] = Field(default_factory=dict)
    """The run's inputs (`{{ inputs.x }}` in templates)."""

    @field_validator("inputs")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            check_depth(value)
        except InputError as exc:
            raise ValueError(exc.reason) from None
        return value


class StepOut(_Out):
    index: int
    """Position in the workflow, from 0."""
    name: str
    """Step name."""
    action: str
    """The action it ran (`http_request`, `send_email`...)."""
    status: str
    """`succeeded`, `failed`, `skipped`..."""
    attempts: int
    """Tries, retries included."""
    duration_ms: float
    """Time spent, all attempts."""
    reused: bool
    """Output reused from the execution this one resumed."""
    output: Any = None
    """The step's output (redacted)."""
    error: dict[str, Any] | None = None
    """The step's error (redacted), when it failed."""


class ExecutionOut(_Out):
    id: str
    """Execution id."""
    workflow: str
    """Workflow name."""
    status: str
    """`queued`, `waiting`, `running`, `succeeded`, `failed`, `cancelled`."""
    trigger: str
    """What started it: `manual`, `cron`, `interval`, `webhook`, `heal`..."""
    config_version: int | None
    """The config version it ran with."""
    resume_of: str | None
    """The execution it resumes (a fix's re-run), if any."""
    failed_step: str | None
    """The step that failed, if any."""
    created_at: datetime
    """When it was queued."""
    started_at: datetime | None
    """When a worker started it."""
    finished_at: datetime | None
    """When it finished."""
    duration_ms: float | None
    """Run time, once finished."""


class ExecutionDetail(ExecutionOut):
    inputs: dict[str, Any]
    """The run's inputs (redacted)."""
    error_context: dict[str, Any] | None
    """The redacted error context of a failure (what diagnosis reads)."""
    steps: list[StepOut]
    """Every step run, in order."""
    diagnosis: dict[str, Any] | None = None
    """The failure's latest diagnosis (the `kyra diagnose` JSON), with `root_cause` when an
    earlier step's output caused it; null before healing diagnosed it."""


MAX_BATCH_RUNS = 1000


class RunsIn(_In):
    runs: list[RunIn] = Field(min_length=1, max_length=MAX_BATCH_RUNS)
    """One entry per run to queue (at most 1,000), each with its own inputs."""


class RunsAccepted(_Out):
    execution_ids: list[str]
    """The queued executions, in the order of `runs`."""
    status: str
    """Always `queued`."""
    workflow: str
    """Workflow name."""


class RunAccepted(_Out):
    execution_id: str
    """The queued execution."""
    status: str
    """Always `queued`."""
    workflow: str
    """Workflow name."""


class RunOut(_Out):
    execution_id: str
    """The first execution of this run."""
    workflow: str
    """Workflow name."""
    status: str
    """Final status after healing: `succeeded` or `failed`."""
    failed_step: str | None
    """The step that failed last, if any."""
    duration_ms: float
    """Run time of the final execution."""
    outputs: dict[str, Any]
    """Step outputs of the final execution (redacted)."""
    error: dict[str, Any] | None
    """Error context of a final failure."""
    healing: list[str]
    """What healing did, in order (`applied`, `proposed`, `escalated`...)."""
    executions: list[str]
    """Every execution of the run, re-runs included."""
    workflow_state: str
    """The workflow's state afterwards."""


class FixOut(_Out):
    id: str
    """Fix id."""
    workflow: str
    """Workflow name."""
    error_class: str
    """Diagnosed error class (`rate_limit`, `timeout`, `auth_invalid`...)."""
    safety: str
    """`green` (applied automatically), `yellow` (needs approval) or `red` (never)."""
    status: str
    """`proposed`, `applied`, `approved`, `rejected`, `rolled_back`, `blocked`, `failed`,
    `retired` (no longer fits a definition the user replaced)."""
    outcome: str
    """Verification result: `pending`, `verified`, `failed`..."""
    reason: str
    """Why Kyra proposed or made the fix."""
    diff: list[dict[str, Any]]
    """Config changes, field by field (old and new values)."""
    patch: list[dict[str, Any]]
    """The typed patch operations."""
    confidence: int
    """Diagnosis confidence, 0-100."""
    tier: str
    """Diagnosis tier that decided: `rules`, `model`, `llm`."""
    from_version: int | None
    """Config version before the fix."""
    to_version: int | None
    """Config version the fix made."""
    execution_id: str | None
    """The failed execution the fix answers."""
    rerun_execution_id: str | None
    """The verification re-run."""
    cost: float
    """Diagnosis cost in USD."""
    decided_by: str | None
    """Who approved, rejected or rolled back."""
    created_at: datetime
    """When the fix was made."""
    verified_at: datetime | None
    """When the re-run verified it."""


class AuditOut(_Out):
    id: int
    """Audit record id."""
    kind: str
    """`diagnosis`, `fix`, `approval`, `rejection`, `rollback`, `killswitch`..."""
    actor: str
    """`kyra`, `user`, or `apikey:<prefix>`."""
    workflow: str | None
    """Workflow name, if any."""
    fix_id: str | None
    """The fix concerned, if any."""
    execution_id: str | None
    """The execution concerned, if any."""
    summary: str
    """One line."""
    details: dict[str, Any]
    """Structured details (redacted)."""
    cost: float
    """Cost in USD (diagnoses)."""
    at: datetime
    """When it happened."""


class FixExplanationOut(_Out):
    lang: Literal["en", "es"]
    """The language of the texts below (`?lang=`, else your tenant's)."""
    what_broke: str
    """The failed step and the diagnosis, in words."""
    why_this_fix: str
    """Why this remedy fits the error, why it was applied or only proposed, and its
    track record on this host when there is one."""
    what_changed: str
    """The change and the config versions (or what approving would change)."""
    how_to_avoid: str
    """How to keep this error from coming back."""


class FixDetail(FixOut):
    diagnosis: dict[str, Any]
    """The diagnosis the fix came from."""
    explanation: FixExplanationOut
    """Learning mode: the fix explained for a person."""
    audit: list[AuditOut]
    """The fix's audit trail, oldest first."""
    value_needed: str | None = None
    """A proposal's field whose value only a person knows: approve with `value`."""
    candidates: list[dict[str, Any]] = Field(default_factory=list)
    """Values Kyra found for that field (`value`, `source`: inputs, an earlier step's
    output, the error text, an earlier run)."""


class ApproveIn(_In):
    value: Any = None
    """Use this value for the proposed field instead of Kyra's suggestion."""


class ReasonIn(_In):
    reason: str = Field(default="", max_length=2000)
    """Why (kept in the audit trail)."""


class FixDecision(_Out):
    fix: FixOut
    """The fix after the decision."""
    workflow_state: str
    """The workflow's state afterwards."""
    rerun_execution_id: str | None = None
    """The re-run an approval queued or ran."""
    rerun_status: str | None = None
    """Its status, when it ran here (`wait=true`)."""


class KillSwitchIn(_In):
    enabled: bool
    """True stops every automatic change of your tenant."""
    reason: str = Field(default="", max_length=2000)
    """Why (kept in the audit trail)."""


class KillSwitchOut(_Out):
    enabled: bool
    """Whether automatic changes are stopped."""
    scope: Literal["tenant", "global"] | None
    """Which switch is on: yours, or the operator's global one."""
    reason: str
    """The reason given when it was turned on."""
    stopped_fixes: list[str] = Field(default_factory=list)
    """Fixes in flight that turning it on stopped."""


class TenantSettingsIn(_In):
    downtime_value_per_hour: float | None = Field(default=None, ge=0, le=1_000_000)
    """What an hour of a broken workflow costs you (for prevented value and ROI)."""
    manual_repair_hours: float | None = Field(default=None, ge=0, le=720)
    """How long a person takes to repair a failure by hand (for ROI)."""
    dashboard_base_url: str | None = Field(
        default=None, max_length=500, pattern=r"^https?://[^\s]+$"
    )
    """Public URL of the dashboard, for links in notifications."""
    lang: Literal["en", "es"] | None = None
    """Language of notifications and the dashboard."""


class UsageOut(_Out):
    month_start: datetime
    """Start of the billing month."""
    fixes_used: int
    """Fixes made this month."""
    fixes_included: int
    """Fixes the tier includes per month."""
    cost_used: float
    """Diagnosis cost this month, USD."""
    cost_limit: float
    """Monthly diagnosis budget of the tier, USD."""
    safeties: list[str]
    """Fix safeties the tier may apply."""


class TenantOut(_Out):
    id: str
    """Tenant id."""
    name: str
    """Tenant name."""
    tier: str
    """`free`, `pro`, `enterprise`..."""
    lang: str
    """Language of messages."""
    downtime_value_per_hour: float
    """Value of an hour of downtime (USD)."""
    manual_repair_hours: float
    """Hours a manual repair takes."""
    dashboard_base_url: str | None
    """Public URL of the dashboard, if set."""
    usage: UsageOut
    """This month's usage against the tier's quota."""


class ApiKeyIn(_In):
    name: str = Field(default="", max_length=100)
    """A label for the key (who or what uses it)."""


class ApiKeyOut(_Out):
    prefix: str
    """The key's public prefix (8 hex characters)."""
    name: str
    """Its label."""
    created_at: datetime
    """When it was created."""
    last_used_at: datetime | None
    """Last use (updated at most once a minute)."""
    revoked: bool
    """Revoked keys authenticate nothing."""


class ApiKeyCreated(ApiKeyOut):
    key: str
    """The full key. It is shown only now: store it safely."""


class WebhookIn(_In):
    signing_secret: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
    """Name of an existing tenant secret to sign bodies with; omitted: Kyra makes one."""


class WebhookCreated(_Out):
    hook_id: str
    """Random id naming the webhook."""
    url: str
    """Where to POST."""
    token: str
    """Send as `X-Kyra-Token`. Shown only now."""
    signing_secret_name: str
    """The tenant secret whose value signs bodies."""
    signing_secret: str | None
    """The HMAC key when Kyra generated it (shown only now); None when you named yours."""


class HookAccepted(_Out):
    execution_id: str | None
    """The queued execution (for a duplicate: the one its first delivery started)."""
    status: str
    """`queued` (202), or `duplicate` (200) for a signed message id already accepted."""


class ProbeOut(_Out):
    status: Literal["ok", "unavailable"]
    """`ok`, or `unavailable` with the failing checks."""
    checks: dict[str, str]
    """Each check and its result (`ok`, or why not)."""
