"""A step's parameters as its action receives them: templates rendered, then the
workflow's versioned config applied (defaults, overrides, date normalisers)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from kyra.actions.base import ActionRegistry, UnknownActionError
from kyra.engine.run_state import RunState
from kyra.errors import ActionInputError, TemplateError
from kyra.workflows.model import Step, WorkflowConfig
from kyra.workflows.params import apply_date_normalisers, apply_defaults, set_path
from kyra.workflows.templating import TemplateContext, TemplateProblem, TemplateRenderer


def action_for(registry: ActionRegistry, step: Step) -> Any:
    try:
        return registry.get(step.action)
    except UnknownActionError:
        raise ActionInputError(
            f"unknown action {step.action!r}",
            action=step.action,
            error_type="UnknownAction",
        ) from None


def render_params(
    renderer: TemplateRenderer,
    env: Mapping[str, str],
    now: datetime,
    run: RunState,
    step: Step,
    config: WorkflowConfig,
) -> dict[str, Any]:
    context = TemplateContext(
        inputs=run.inputs,
        steps={name: {"output": out} for name, out in run.outputs.items()},
        secrets=run.secrets,
        env=env,
        now=now,
    )
    try:
        params: dict[str, Any] = renderer.render_params(step.with_, context)
    except TemplateError as exc:
        limited = isinstance(exc, TemplateProblem) and exc.kind == "limit"
        raise ActionInputError(
            str(exc),
            action=step.action,
            error_type="TemplateLimitExceeded" if limited else "TemplateError",
        ) from exc
    try:
        if config.defaults:
            params, _ = apply_defaults(params, config.defaults)
        for path, value in config.overrides.items():
            params = set_path(params, path, value)
        if config.date_normalisers:
            params, _ = apply_date_normalisers(params, config.date_normalisers)
    except ValueError as exc:
        raise ActionInputError(
            f"config cannot be applied to the parameters: {exc}",
            action=step.action,
            error_type="ConfigError",
        ) from exc
    return params


def validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"with.{loc}: {err['msg']}" if loc else err["msg"])
    return "; ".join(parts)
