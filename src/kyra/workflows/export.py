"""The effective definition of a stored workflow as a document `apply` loads again.

A stored workflow's config is its current version, Kyra's applied fixes included, so
exporting it and editing that file keeps the fixes in the person's own hands.
"""

from __future__ import annotations

from typing import Any

import yaml

from kyra.workflows.model import Workflow


def export_document(workflow: Workflow) -> dict[str, Any]:
    """The definition as plain data; values left at their defaults are omitted."""
    return workflow.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def export_yaml(workflow: Workflow) -> str:
    """The definition as YAML, keys in definition order, non-ASCII text kept readable."""
    return yaml.safe_dump(
        export_document(workflow), sort_keys=False, allow_unicode=True, default_flow_style=False
    )
