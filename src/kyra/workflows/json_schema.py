"""The JSON Schema of workflow files, for editors (`kyra workflows schema`).

Generated from the same pydantic models that validate a workflow, then widened to what a
file may really hold: a duration is `30s` or a number, a trigger may be written
`manual` or `{cron: ...}`, and any parameter may be a `{{ template }}` that renders to
the right type at run time. Each action's parameters are described under `with` for
steps naming that action (key completion, required keys, no unknown keys). Validation
stays `kyra workflows validate`'s job: the schema helps while typing.
"""

from __future__ import annotations

from typing import Any

from kyra.workflows.loader import ActionCatalog
from kyra.workflows.model import Workflow

DURATION = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*)+$"},
    ],
    "description": "Seconds, or a duration like 250ms, 30s, 5m, 1h30m.",
}
TEMPLATE = {"type": "string", "pattern": r"\{\{", "description": "A {{ template }}."}
_DURATION_FIELDS = {
    ("RetryPolicy", "initial_delay"),
    ("RetryPolicy", "max_delay"),
    ("StepConfig", "request_delay"),
    ("StepConfig", "timeout"),
    ("WorkflowConfig", "request_delay"),
    ("WorkflowConfig", "timeout"),
    ("Trigger", "interval"),
}


def workflow_schema(registry: ActionCatalog) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a workflow file."""
    schema = Workflow.model_json_schema(by_alias=True)
    defs: dict[str, Any] = schema["$defs"]
    for model, field in _DURATION_FIELDS:
        props = defs.get(model, {}).get("properties", {})
        if field in props:
            nullable = "anyOf" in props[field] and {"type": "null"} in props[field]["anyOf"]
            widened = {"anyOf": [*DURATION["anyOf"], {"type": "null"}]} if nullable else DURATION
            props[field] = {**widened, "description": DURATION["description"]}
    schema["properties"]["trigger"] = {
        "anyOf": [
            {"type": "string", "enum": ["manual", "webhook"]},
            {"$ref": "#/$defs/Trigger"},
        ]
    }
    trigger = defs["Trigger"]["properties"]
    trigger["webhook"] = {"description": "`{webhook: {}}` is the same as `webhook`."}
    defs["Step"]["properties"]["action"]["enum"] = registry.names()
    defs["Step"]["allOf"] = [_action_params(name, registry, defs) for name in registry.names()]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _action_params(name: str, registry: ActionCatalog, defs: dict[str, Any]) -> dict[str, Any]:
    params = registry.get(name).Params.model_json_schema(by_alias=True)
    defs.update(params.pop("$defs", {}))
    properties = {
        key: {"anyOf": [value, TEMPLATE]} for key, value in params.get("properties", {}).items()
    }
    with_schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if params.get("required"):
        with_schema["required"] = params["required"]
    if params.get("description"):
        with_schema["description"] = params["description"]
    return {
        "if": {"properties": {"action": {"const": name}}, "required": ["action"]},
        "then": {"properties": {"with": with_schema}},
    }
