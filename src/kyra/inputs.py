"""JSON that comes from outside (API bodies, webhooks, `kyra diagnose` lines), read
within depth and size limits.

Why: Python's `json` recurses once per nesting level, so 50,000 `[` raise
RecursionError (a 500 from the API, a traceback from the CLI), and a document nested a
few hundred levels deep parses but then exhausts the recursion of whatever walks it
(validation, redaction, storage). Every entry point reads through `load_json`, which
raises one `InputError` with a sentence, and callers turn it into a 4xx or exit 2.
`NaN` and `Infinity` are refused too: they are not JSON, and PostgreSQL's JSON type
rejects them at the first insert.
"""

from __future__ import annotations

import json
from typing import Any

from kyra.errors import InputError

MAX_DEPTH = 64
"""Deepest nesting of objects and arrays accepted (the workflow loader's bound too)."""


def _refuse_constant(name: str) -> Any:
    raise InputError(f"{name} is not a JSON value")


def load_json(raw: str | bytes, *, max_depth: int = MAX_DEPTH, max_bytes: int | None = None) -> Any:
    """Parse `raw` as JSON within `max_depth` levels and `max_bytes` bytes.

    Raises:
        InputError: invalid, too deep or too large, with a one-line reason.
    """
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    if max_bytes is not None and size > max_bytes:
        raise InputError(f"the JSON is larger than {max_bytes} bytes")
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise InputError(f"the JSON is nested more than {max_depth} levels deep") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"the JSON is not UTF-8 text: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc}") from None
    check_depth(data, max_depth)
    return data


def check_depth(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise InputError when `value` nests dicts/lists deeper than `max_depth`
    (iterative: the check itself cannot run out of recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth >= max_depth:
            raise InputError(f"the JSON is nested more than {max_depth} levels deep")
        stack.extend((child, depth + 1) for child in children)


__all__ = ["MAX_DEPTH", "InputError", "check_depth", "load_json"]
