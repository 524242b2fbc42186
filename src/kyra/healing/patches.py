"""Typed, bounded, reversible config patches.

A fix never writes free-form config: it is a short list of the operations below, each
validated against hard bounds that nothing in an error message can widen. Applying a
patch yields a new `WorkflowConfig` (a new version); its inverse is the version before.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kyra.workflows.dates import validate_strftime
from kyra.workflows.model import (
    Backoff,
    DateNormaliser,
    RetryPolicy,
    StepConfig,
    Workflow,
    WorkflowConfig,
)
from kyra.workflows.params import parse_path

HARD_MAX_REQUEST_DELAY = 60.0
HARD_MAX_TIMEOUT = 120.0
HARD_MAX_RETRIES = 5
HARD_MAX_RETRY_DELAY = 300.0
MAX_VALUE_LENGTH = 500
VERSION_HEADER = re.compile(r"^(?i:[A-Za-z][A-Za-z0-9-]{0,40}-version|accept-version)$")
VERSION_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")

Scalar = str | int | float | bool | None


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    step: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    """None: the whole workflow; otherwise the versioned override of that step."""


class SetRequestDelay(_Op):
    op: Literal["set_request_delay"] = "set_request_delay"
    seconds: float = Field(ge=0, le=HARD_MAX_REQUEST_DELAY)


class SetTimeout(_Op):
    op: Literal["set_timeout"] = "set_timeout"
    seconds: float = Field(gt=0, le=HARD_MAX_TIMEOUT)


class SetRetry(_Op):
    op: Literal["set_retry"] = "set_retry"
    max_retries: int = Field(ge=0, le=HARD_MAX_RETRIES)
    backoff: Backoff = Backoff.EXPONENTIAL
    initial_delay: float = Field(ge=0, le=HARD_MAX_RETRY_DELAY)
    max_delay: float = Field(ge=0, le=HARD_MAX_RETRY_DELAY)
    multiplier: float = Field(default=2.0, ge=1, le=4)


class _FieldOp(_Op):
    field: str = Field(min_length=1, max_length=200)

    @field_validator("field")
    @classmethod
    def _path(cls, value: str) -> str:
        parse_path(value)  # raises ValueError for anything but plain dotted keys
        return value


class AddDateNormaliser(_FieldOp):
    op: Literal["add_date_normaliser"] = "add_date_normaliser"
    format: str

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        return validate_strftime(value)


class SetFieldDefault(_FieldOp):
    op: Literal["set_field_default"] = "set_field_default"
    value: Scalar

    @field_validator("value")
    @classmethod
    def _bounded(cls, value: Scalar) -> Scalar:
        if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
            raise ValueError(f"a field value has at most {MAX_VALUE_LENGTH} characters")
        return value


class SetFieldValue(SetFieldDefault):
    op: Literal["set_field_value"] = "set_field_value"  # type: ignore[assignment]


class SetHeader(_Op):
    op: Literal["set_header"] = "set_header"
    name: str
    value: str

    @field_validator("name")
    @classmethod
    def _version_header(cls, value: str) -> str:
        if not VERSION_HEADER.match(value):
            raise ValueError("only API version headers (…-Version) may be set by a fix")
        return value

    @field_validator("value")
    @classmethod
    def _version_value(cls, value: str) -> str:
        if not VERSION_VALUE.match(value):
            raise ValueError("an API version is letters, digits, '.', '_' or '-'")
        return value


PatchOp = Annotated[
    SetRequestDelay
    | SetTimeout
    | SetRetry
    | AddDateNormaliser
    | SetFieldDefault
    | SetFieldValue
    | SetHeader,
    Field(discriminator="op"),
]


class ConfigPatch(BaseModel):
    """An ordered list of bounded operations (at most 6)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ops: tuple[PatchOp, ...] = Field(default=(), max_length=6)

    @property
    def empty(self) -> bool:
        return not self.ops

    def apply(self, config: WorkflowConfig, step_names: set[str]) -> WorkflowConfig:
        """The config after this patch; raises ValueError for a step that does not exist."""
        data = config.model_dump(mode="json")
        for op in self.ops:
            if op.step is not None and op.step not in step_names:
                raise ValueError(f"patch names unknown step {op.step!r}")
            _apply_op(data, op)
        return WorkflowConfig.model_validate(data)


def _target(data: dict[str, Any], step: str | None) -> dict[str, Any]:
    if step is None:
        return data
    steps: dict[str, Any] = data.setdefault("steps", {})
    return steps.setdefault(step, StepConfig().model_dump(mode="json"))


def _apply_op(data: dict[str, Any], op: BaseModel) -> None:
    target = _target(data, getattr(op, "step", None))
    match op:
        case SetRequestDelay(seconds=seconds):
            target["request_delay"] = seconds
        case SetTimeout(seconds=seconds):
            target["timeout"] = seconds
        case SetRetry():
            target["retry"] = RetryPolicy(
                max_retries=op.max_retries,
                backoff=op.backoff,
                initial_delay=op.initial_delay,
                max_delay=max(op.max_delay, op.initial_delay),
                multiplier=op.multiplier,
            ).model_dump(mode="json")
        case AddDateNormaliser(field=field, format=fmt):
            current = [n for n in (target.get("date_normalisers") or []) if n["field"] != field]
            target["date_normalisers"] = [
                *current,
                DateNormaliser(field=field, format=fmt).model_dump(mode="json"),
            ]
        case SetFieldValue(field=field, value=value):
            target["overrides"] = {**(target.get("overrides") or {}), field: value}
        case SetFieldDefault(field=field, value=value):
            target["defaults"] = {**(target.get("defaults") or {}), field: value}
        case SetHeader(name=name, value=value):
            target["headers"] = {**(target.get("headers") or {}), name: value}


def diff(before: WorkflowConfig, after: WorkflowConfig) -> list[dict[str, Any]]:
    """Changed leaves as `{path, before, after}`: what a person reads in an audit."""
    changes: list[dict[str, Any]] = []
    _diff(before.model_dump(mode="json"), after.model_dump(mode="json"), "", changes)
    return changes


def _diff(a: Any, b: Any, path: str, out: list[dict[str, Any]]) -> None:
    if isinstance(a, dict) or isinstance(b, dict):
        a = a if isinstance(a, dict) else {}
        b = b if isinstance(b, dict) else {}
        for key in sorted(set(a) | set(b)):
            _diff(a.get(key), b.get(key), f"{path}.{key}" if path else key, out)
    elif a != b and not (a in (None, {}, []) and b in (None, {}, [])):
        out.append({"path": path, "before": a, "after": b})


def patch_json(patch: ConfigPatch) -> dict[str, Any]:
    """A patch as stored on the fix row and in audit records."""
    return patch.model_dump(mode="json")


def patch_with_value(patch: ConfigPatch, value: Any) -> ConfigPatch:
    """A person approving may give another value for a field fix (validated the same)."""
    if value is None:
        return patch
    ops = []
    for op in patch.ops:
        if hasattr(op, "value") and hasattr(op, "field"):
            op = type(op).model_validate({**op.model_dump(), "value": value})
        ops.append(op)
    return ConfigPatch(ops=tuple(ops))


def apply_to(patch: ConfigPatch, workflow: Workflow) -> WorkflowConfig:
    """The workflow's config after `patch` (its steps are the ones a patch may name)."""
    return patch.apply(workflow.config, {step.name for step in workflow.steps})
