"""Post-processing of rendered step parameters by dotted path (`json.customer.email`).

Healing writes defaults and date normalisers whose paths are taken from remote error
messages, so every path is validated first: only `[A-Za-z0-9_-]` segments separated by
dots, at most `MAX_DEPTH` of them. Attacker text cannot turn into a path that reaches
anything but plain keys and list indices. All functions are pure: they return new
containers and leave their arguments untouched.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from kyra.workflows.dates import format_date, normalise_date, validate_strftime
from kyra.workflows.model import DateNormaliser

MAX_DEPTH = 10
MAX_PATH_LENGTH = 200
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

MESSAGES = {
    "empty": "a parameter path cannot be empty",
    "long": "a parameter path has at most {limit} characters",
    "deep": "parameter path {path!r} has more than {limit} parts",
    "segment": "parameter path {path!r} has an invalid part {segment!r}; use letters, "
    "digits, '_' and '-' separated by dots",
    "not_container": "cannot set {path!r}: {parent!r} holds a {kind}, not a mapping or list",
    "index": "cannot set {path!r}: index {index} is past the end of a list of {size}",
}


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Returned by `get_path(..., default=MISSING)` for a path that does not exist."""
_NO_DEFAULT: Any = object()


@dataclass(frozen=True)
class DateChange:
    """One date rewritten by a normaliser, for the run log and the fix's verification."""

    path: str
    before: Any
    after: str


def parse_path(path: str) -> tuple[str, ...]:
    """Split and validate a dotted path; raises ValueError with a sentence."""
    if not path:
        raise ValueError(MESSAGES["empty"])
    if len(path) > MAX_PATH_LENGTH:
        raise ValueError(MESSAGES["long"].format(limit=MAX_PATH_LENGTH))
    segments = tuple(path.split("."))
    if len(segments) > MAX_DEPTH:
        raise ValueError(MESSAGES["deep"].format(path=path, limit=MAX_DEPTH))
    for segment in segments:
        if not _SEGMENT.match(segment):
            raise ValueError(MESSAGES["segment"].format(path=path, segment=segment))
    return segments


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _child(container: Any, segment: str) -> Any:
    if isinstance(container, Mapping):
        return container.get(segment, MISSING)
    if _is_list(container) and segment.isdigit():
        index = int(segment)
        return container[index] if index < len(container) else MISSING
    return MISSING


def get_path(params: Any, path: str, default: Any = _NO_DEFAULT) -> Any:
    """The value at `path` (`items.0.date` indexes lists), or `default` when absent.

    Raises:
        ValueError: the path is not valid.
        KeyError: the path does not exist and no default was given.
    """
    current = params
    for segment in parse_path(path):
        current = _child(current, segment)
        if current is MISSING:
            break
    if current is MISSING:
        if default is _NO_DEFAULT:
            raise KeyError(path)
        return default
    return current


def set_path(params: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `params` with `value` at `path`; missing mappings on the way are created.

    Only the containers along the path are copied. A list index may replace an item or
    append one (index == length).

    Raises:
        ValueError: the path is invalid, or runs through a value that is not a container.
    """
    segments = parse_path(path)
    if not isinstance(params, Mapping):
        raise TypeError(f"parameters must be a mapping, not {type(params).__name__}")
    result: dict[str, Any] = _set(params, segments, 0, value, path)
    return result


def _set(container: Any, segments: tuple[str, ...], depth: int, value: Any, path: str) -> Any:
    segment = segments[depth]
    last = depth == len(segments) - 1
    if isinstance(container, Mapping):
        copied: dict[str, Any] = dict(container)
        if last:
            copied[segment] = value
        else:
            copied[segment] = _set(copied.get(segment, {}), segments, depth + 1, value, path)
        return copied
    if _is_list(container) and segment.isdigit():
        items = list(container)
        index = int(segment)
        if index > len(items):
            raise ValueError(MESSAGES["index"].format(path=path, index=index, size=len(items)))
        if index == len(items):
            items.append(MISSING)
        if last:
            items[index] = value
        else:
            current = items[index]
            child = {} if current is MISSING or current is None else current
            items[index] = _set(child, segments, depth + 1, value, path)
        return items
    if container is None:
        return _set({}, segments, depth, value, path)
    parent = ".".join(segments[:depth]) or "(top level)"
    raise ValueError(
        MESSAGES["not_container"].format(path=path, parent=parent, kind=type(container).__name__)
    )


def _is_empty(value: Any) -> bool:
    return value is MISSING or value is None or value == ""


def apply_defaults(
    params: Mapping[str, Any], defaults: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Fill each default path that is missing, None or "" in `params`.

    Returns the new parameters and the paths that were filled, in `defaults` order.
    Values are deep-copied so later changes to the parameters never reach the config.
    """
    result = dict(params)
    applied: list[str] = []
    for path, value in defaults.items():
        if _is_empty(get_path(result, path, MISSING)):
            result = set_path(result, path, copy.deepcopy(value))
            applied.append(path)
    return result, applied


def apply_date_normalisers(
    params: Mapping[str, Any], normalisers: Sequence[DateNormaliser]
) -> tuple[dict[str, Any], list[DateChange]]:
    """Rewrite the date at each normaliser's path into its format.

    Values that are absent, not strings or dates, or not readable as a date are left
    alone (the action will report them); only real rewrites are returned as changes.

    Raises:
        ValueError: a normaliser's path or format is not valid.
    """
    result = dict(params)
    changes: list[DateChange] = []
    for normaliser in normalisers:
        fmt = validate_strftime(normaliser.format)
        before = get_path(result, normaliser.field, MISSING)
        after = _normalised(before, fmt)
        if after is not None and after != before:
            result = set_path(result, normaliser.field, after)
            changes.append(DateChange(normaliser.field, before, after))
    return result, changes


def _normalised(value: Any, fmt: str) -> str | None:
    if isinstance(value, date):
        return format_date(value, fmt)
    if isinstance(value, str):
        try:
            return normalise_date(value, fmt)
        except ValueError:
            return None
    return None


__all__ = [
    "MAX_DEPTH",
    "MISSING",
    "DateChange",
    "apply_date_normalisers",
    "apply_defaults",
    "get_path",
    "parse_path",
    "set_path",
]
