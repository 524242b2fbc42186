"""Static analysis of a workflow's templates: which secrets it needs.

`kyra workflows apply` uses it to refuse a workflow that names a secret the tenant does
not have, at apply time rather than at 3 a.m.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import nodes

from kyra.workflows._sandbox import is_template, parse
from kyra.workflows.model import Workflow


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _secret_names(source: str) -> set[str]:
    names: set[str] = set()
    tree = parse(source)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        target = node.node
        if not (isinstance(target, nodes.Name) and target.name == "secrets"):
            continue
        if isinstance(node, nodes.Getattr):
            names.add(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            names.add(node.arg.value)
    return names


def secret_references(workflow: Workflow) -> list[tuple[str, str]]:
    """(location, secret name) for every `secrets.NAME` / `secrets['NAME']` in the steps."""
    found: list[tuple[str, str]] = []
    for index, step in enumerate(workflow.steps):
        for path, text in _strings(step.with_, f"steps[{index}].with"):
            if is_template(text):
                found.extend((path, name) for name in sorted(_secret_names(text)))
    return found
