"""The workflow document: triggers, steps, and the healable `WorkflowConfig`.

`WorkflowConfig` holds every setting healing may change; it is versioned on its own
(see `store`), so a fix is a new config version, never an edit of the steps.
"""

from __future__ import annotations

import re
import zoneinfo
from enum import StrEnum
from functools import cache
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kyra.workflows.durations import Seconds, parse_duration

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
STEP_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Backoff(StrEnum):
    NONE = "none"
    FIXED = "fixed"
    EXPONENTIAL = "exponential"


class RetryPolicy(_Strict):
    """How the executor retries a retryable step error (transport, 429, 5xx)."""

    max_retries: int = Field(default=0, ge=0, le=20)
    """Retries after the first attempt; 0 means fail on the first error."""
    backoff: Backoff = Backoff.EXPONENTIAL
    initial_delay: Seconds = Field(default=1.0, le=3600)
    max_delay: Seconds = Field(default=60.0, le=3600)
    multiplier: float = Field(default=2.0, ge=1.0, le=10.0)
    jitter: bool | Literal["full"] = "full"
    """Spreads retries so many runs do not retry in lock-step. `full` (the default, as AWS
    recommends for contended upstreams and as tenacity and Celery do): a delay drawn
    between 0 and the backoff. `true`: the backoff plus up to 10 %. `false`: exact."""

    @model_validator(mode="after")
    def _delays_ordered(self) -> RetryPolicy:
        if self.max_delay < self.initial_delay:
            raise ValueError("retry.max_delay must not be smaller than retry.initial_delay")
        return self


class DateNormaliser(_Strict):
    """Rewrites the date at `field` (a dotted path into the step's `with`) to `format`."""

    field: str = Field(min_length=1, max_length=200)
    format: str = Field(default="%Y-%m-%d", min_length=2, max_length=64)


class StepConfig(_Strict):
    """Per-step overrides; any field left out falls back to the workflow's config."""

    request_delay: Seconds | None = Field(default=None, le=3600)
    timeout: Seconds | None = Field(default=None, gt=0, le=3600)
    retry: RetryPolicy | None = None
    date_format: str | None = Field(default=None, max_length=64)
    date_normalisers: list[DateNormaliser] | None = None
    defaults: dict[str, Any] | None = None
    overrides: dict[str, Any] | None = None
    headers: dict[str, str] | None = None


class WorkflowConfig(_Strict):
    """The settings healing may change. Every change is a new, audited config version."""

    request_delay: Seconds = Field(default=0.0, le=3600)
    """Minimum pause between two HTTP requests of the same run."""
    timeout: Seconds = Field(default=30.0, gt=0, le=3600)
    """Per-request timeout of a step."""
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    date_format: str | None = Field(default=None, max_length=64)
    """The date format the workflow's services expect (strftime), when known."""
    date_normalisers: list[DateNormaliser] = Field(default_factory=list)
    defaults: dict[str, Any] = Field(default_factory=dict)
    """Values for step parameters that are missing or empty, by dotted path into `with`."""
    overrides: dict[str, Any] = Field(default_factory=dict)
    """Values that replace step parameters, by dotted path (an approved correction)."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra HTTP headers for every request (e.g. an API version header)."""
    steps: dict[str, StepConfig] = Field(default_factory=dict)
    """Per-step overrides that are part of the versioned config (where fixes land); they
    win over the step's own `config:` in the workflow document."""


class TriggerKind(StrEnum):
    MANUAL = "manual"
    CRON = "cron"
    INTERVAL = "interval"
    WEBHOOK = "webhook"


MIN_INTERVAL_CONTEXT = "min_trigger_interval"
"""Validation-context key of the shortest `interval` accepted (the loader passes
`KYRA_MIN_TRIGGER_INTERVAL_SECONDS`); stored workflows are read without it."""


@cache
def time_zones() -> frozenset[str]:
    """The IANA zone names Kyra accepts (from `tzdata`; read once)."""
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def check_timezone(name: str) -> str:
    """`name` if it is an IANA time zone; a file path or a made-up zone is refused
    here, not by the scheduler at 3 a.m."""
    if name not in time_zones():
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise ValueError(
            f"unknown time zone {shown!r}: use an IANA name such as 'Europe/Madrid' or 'UTC'"
        )
    return name


class Trigger(_Strict):
    """When a workflow runs. YAML accepts `manual`, `webhook`, `{cron: ...}`, `{interval: 30s}`."""

    kind: TriggerKind = TriggerKind.MANUAL
    cron: str | None = Field(default=None, max_length=200)
    interval: Seconds | None = Field(default=None, gt=0)
    timezone: str = "UTC"
    catch_up: Literal["skip", "run_once"] = "skip"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("interval")
    @classmethod
    def _not_too_often(cls, value: float | None, info: ValidationInfo) -> float | None:
        minimum = (info.context or {}).get(MIN_INTERVAL_CONTEXT)
        if value is not None and minimum is not None and value < minimum:
            raise ValueError(
                f"an interval trigger fires at most every {minimum:g}s "
                f"(KYRA_MIN_TRIGGER_INTERVAL_SECONDS); got {value:g}s"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"kind": value}
        if isinstance(value, dict) and "kind" not in value:
            if "cron" in value:
                return {"kind": "cron", **value}
            if "interval" in value:
                return {"kind": "interval", **value}
            if "webhook" in value:
                rest = {k: v for k, v in value.items() if k != "webhook"}
                return {"kind": "webhook", **rest}
        return value

    @model_validator(mode="after")
    def _complete(self) -> Trigger:
        if self.kind is TriggerKind.CRON:
            if not self.cron:
                raise ValueError("a cron trigger needs a cron expression")
            from croniter import croniter  # only cron workflows pay for it (~50 ms)

            if not croniter.is_valid(self.cron):
                raise ValueError(f"invalid cron expression {self.cron!r}")
        if self.kind is TriggerKind.INTERVAL and self.interval is None:
            raise ValueError("an interval trigger needs an interval like '30s'")
        return self


class OnError(StrEnum):
    FAIL = "fail"
    CONTINUE = "continue"


class Step(_Strict):
    """One action call. `with` parameters are templates rendered just before the call."""

    name: str
    action: str
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    config: StepConfig | None = None
    on_error: OnError = OnError.FAIL
    provider: str | None = None
    """Overrides the provider name derived from the URL host (used by diagnosis)."""

    @field_validator("name")
    @classmethod
    def _step_name(cls, value: str) -> str:
        if not STEP_NAME_PATTERN.match(value):
            raise ValueError(
                "a step name starts with a letter or '_' and holds letters, digits and '_' "
                "(it is used as steps.<name>.output in templates)"
            )
        return value


class RerunFrom(StrEnum):
    FAILED_STEP = "failed_step"
    START = "start"


class Workflow(_Strict):
    """A workflow definition as the user wrote it."""

    name: str
    description: str = ""
    trigger: Trigger = Field(default_factory=Trigger)
    inputs: dict[str, Any] = Field(default_factory=dict)
    """Default inputs; `kyra run --input k=v` overrides them."""
    config: WorkflowConfig = Field(default_factory=WorkflowConfig)
    steps: list[Step] = Field(min_length=1)
    rerun_from: RerunFrom = RerunFrom.FAILED_STEP
    """Where a re-run after a fix starts: the failed step (default, no duplicate side
    effects) or the start."""

    @field_validator("name")
    @classmethod
    def _workflow_name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(
                "a workflow name holds letters, digits, '.', '_' and '-' (at most 100)"
            )
        return value

    @model_validator(mode="after")
    def _unique_steps(self) -> Workflow:
        seen: set[str] = set()
        for step in self.steps:
            if step.name in seen:
                raise ValueError(f"step name {step.name!r} is used twice")
            seen.add(step.name)
        unknown = sorted(set(self.config.steps) - seen)
        if unknown:
            raise ValueError(f"config.steps names unknown step(s): {', '.join(unknown)}")
        return self

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)


def effective_config(config: WorkflowConfig, step: Step) -> WorkflowConfig:
    """The config a step runs with: the workflow's config, then the step's own `config:`
    from the document, then the versioned per-step overrides. Merged here only."""
    layers = [o for o in (step.config, config.steps.get(step.name)) if o is not None]
    if not layers:
        return config
    merged = config.model_dump(exclude={"steps"})
    for layer in layers:
        for key, value in layer.model_dump(exclude_none=True, exclude_unset=True).items():
            if key in ("defaults", "overrides", "headers"):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return WorkflowConfig.model_validate(merged)


__all__ = [
    "Backoff",
    "DateNormaliser",
    "OnError",
    "RerunFrom",
    "RetryPolicy",
    "Step",
    "StepConfig",
    "Trigger",
    "TriggerKind",
    "Workflow",
    "WorkflowConfig",
    "effective_config",
    "parse_duration",
]
