"""Reading a workflow document into plain data plus the line of every field path.

The YAML is composed once and built into data here (not by PyYAML's constructor) so
each path keeps its line, duplicate keys — which YAML silently overwrites — are
caught, implicit timestamps stay text, and alias expansion is bounded. JSON is parsed
by `json` and only borrows line numbers from the YAML composer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from types import NoneType
from typing import Any

import yaml

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 100_000
"""Bounds alias expansion ("billion laughs") as well as plain size."""
MAX_NESTING = 64

MESSAGES = {
    "read": "cannot read the file: {reason}",
    "too_big": "the file is larger than {limit} bytes",
    "yaml": "YAML syntax error: {reason}",
    "json": "JSON syntax error: {reason}",
    "character": "unacceptable character #x{code:04x} (control characters are not allowed)",
    "empty": "the document is empty; a workflow needs at least a name and steps",
    "not_mapping": "a workflow must be a mapping of fields (name, trigger, steps, ...), not {kind}",
    "duplicate_key": "duplicate key {key!r} (first set on line {first})",
    "duplicate_key_json": "duplicate key {key!r}",
    "key_not_text": "key {raw!r} is read as {kind}; quote it to use it as text",
    "tag": "unsupported YAML tag {tag!r}",
    "too_deep": "the document is nested more than {limit} levels deep",
    "too_many": "the document expands to more than {limit} values (too many aliases?)",
    "required": "field required",
    "unknown_field": "unknown field",
    "expected": "expected {expected}, got {kind}",
    "duplicate_step": "step name {name!r} is already used by steps[{first}]",
    "unknown_action": "unknown action {name!r}",
    "unknown_param": "unknown parameter for action {action!r}",
    "did_you_mean": " (did you mean {name!r}?)",
    "available": " (available: {names})",
    "template": "template error: {reason}",
    "bad_path": "{reason}",
    "header": "{source}: the workflow definition has {count} problem{plural}:",
}

_KINDS: dict[type, str] = {
    dict: "a mapping",
    list: "a list",
    str: "text",
    bool: "true/false",
    int: "a number",
    float: "a number",
    NoneType: "nothing (null)",
}
Loc = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem; sorts by position, renders as `file:line[:col]: path: message`."""

    line: int
    column: int
    path: str
    message: str

    def render(self, source: str) -> str:
        where = source
        if self.line:
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class Abort(Exception):
    """The document cannot be read far enough to check anything else."""

    def __init__(self, *problems: Problem) -> None:
        self.problems = list(problems)


def kind_of(value: Any) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def path_text(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class _SafeTextLoader(yaml.SafeLoader):
    """Safe loading without implicit timestamps: `2026-11-26` stays the text the user
    wrote (parameters are JSON-like; a `datetime.date` would not serialise), and nesting
    bounded while composing: PyYAML's composer recurses once per level and its scanner
    slows quadratically with flow depth, so `[` × 1,500 would cost a second of CPU
    before RecursionError; past `MAX_NESTING` levels composing stops at once."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_NESTING + 1:
                line = self.peek_event().start_mark.line + 1
                raise Abort(Problem(line, 0, "", MESSAGES["too_deep"].format(limit=MAX_NESTING)))
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


_SafeTextLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null")}


class _Builder:
    """Builds plain data from a YAML node tree, recording each path's line."""

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.lines: dict[Loc, int] = {}
        self.block_scalars: set[Loc] = set()
        self.problems: list[Problem] = []
        self.count = 0

    def problem(self, node: yaml.Node, path: Loc, message: str) -> None:
        self.problems.append(Problem(node.start_mark.line + 1, 0, path_text(path), message))

    def build(self, node: yaml.Node, path: Loc) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise Abort(Problem(0, 0, "", MESSAGES["too_many"].format(limit=MAX_NODES)))
        if len(path) > MAX_NESTING:
            line = node.start_mark.line + 1
            raise Abort(Problem(line, 0, "", MESSAGES["too_deep"].format(limit=MAX_NESTING)))
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != f"{_TAG}seq":
                self.problem(node, path, MESSAGES["tag"].format(tag=node.tag))
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: Loc) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self.problem(node, path, MESSAGES["tag"].format(tag=node.tag))
            return node.value
        if getattr(node, "style", None) in ("|", ">"):
            self.block_scalars.add(path)
        return self.loader.construct_object(node)

    def _mapping(self, node: yaml.MappingNode, path: Loc) -> dict[str, Any]:
        if node.tag != f"{_TAG}map":
            self.problem(node, path, MESSAGES["tag"].format(tag=node.tag))
        result: dict[str, Any] = {}
        merged: list[Any] = []
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == f"{_TAG}merge":  # `<<: *defaults`
                value = self.build(value_node, path)
                merged.extend(value if isinstance(value, list) else [value])
                continue
            key = self._key(key_node, path)
            line = key_node.start_mark.line + 1
            if key in first_lines:
                message = MESSAGES["duplicate_key"].format(key=key, first=first_lines[key])
                self.problem(key_node, (*path, key), message)
                continue
            first_lines[key] = line
            self.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        for extra in merged:
            if isinstance(extra, dict):
                for key, value in extra.items():
                    result.setdefault(key, value)
        return result

    def _key(self, node: yaml.Node, path: Loc) -> str:
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, path, MESSAGES["key_not_text"].format(raw="...", kind=kind_of([])))
            return f"<line {node.start_mark.line + 1}>"
        value = self.loader.construct_object(node) if node.tag in _SCALAR_TAGS else node.value
        if not isinstance(value, str):
            message = MESSAGES["key_not_text"].format(raw=node.value, kind=kind_of(value))
            self.problem(node, (*path, node.value), message)
        return str(node.value)


_BRACKETS = re.compile(r"[\[\]{}]")


def _check_flow_depth(text: str) -> None:
    """Refuse flow collections (`[`, `{`) nested past `MAX_NESTING` before PyYAML reads
    them: its scanner looks ahead up to 1,024 characters per unresolved flow level, so
    `[` × 1,000 costs half a second of CPU. Brackets inside strings count too, which
    only matters for text holding more than 64 unclosed brackets in a row."""
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_NESTING:
            line = text.count("\n", 0, match.start()) + 1
            raise Abort(Problem(line, 0, "", MESSAGES["too_deep"].format(limit=MAX_NESTING)))


def compose(text: str) -> tuple[Any, _Builder]:
    """Parse YAML (or JSON, which is YAML) into data plus line numbers."""
    _check_flow_depth(text)
    loader: _SafeTextLoader | None = None
    try:
        # The reader checks for unprintable characters (NUL, ...) on construction.
        loader = _SafeTextLoader(text)
        root = loader.get_single_node()
        if root is None:
            raise Abort(Problem(0, 0, "", MESSAGES["empty"]))
        builder = _Builder(loader)
        return builder.build(root, ()), builder
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "unreadable document"
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise Abort(Problem(line, column, "", MESSAGES["yaml"].format(reason=reason))) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        column = exc.position - text.rfind("\n", 0, max(exc.position, 0))
        reason = MESSAGES["character"].format(code=exc.character)
        raise Abort(Problem(line, column, "", MESSAGES["yaml"].format(reason=reason))) from None
    except yaml.YAMLError as exc:
        raise Abort(Problem(0, 0, "", MESSAGES["yaml"].format(reason=exc))) from None
    except RecursionError:
        raise Abort(Problem(0, 0, "", MESSAGES["too_deep"].format(limit=MAX_NESTING))) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_json(text: str) -> tuple[Any, dict[Loc, int], set[Loc], list[Problem]]:
    """JSON is parsed by `json` (the authority on its syntax); the YAML composer, which
    reads JSON too, only supplies line numbers, when it can."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result.setdefault(key, value)
        return result

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        problem = Problem(exc.lineno, exc.colno, "", MESSAGES["json"].format(reason=exc.msg))
        raise Abort(problem) from None
    except RecursionError:
        raise Abort(Problem(0, 0, "", MESSAGES["too_deep"].format(limit=MAX_NESTING))) from None
    try:
        _, builder = compose(text)
    except Abort:
        problems = [
            Problem(0, 0, "", MESSAGES["duplicate_key_json"].format(key=k)) for k in duplicates
        ]
        return data, {(): 1}, set(), problems
    return data, builder.lines, builder.block_scalars, builder.problems


@dataclass
class Document:
    """A document being checked: its data, line map and the problems found so far."""

    data: Any
    lines: dict[Loc, int]
    block_scalars: set[Loc]
    problems: list[Problem]

    def line(self, loc: Loc) -> int:
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 0

    def add(self, loc: Loc, message: str, line: int | None = None) -> None:
        line = self.line(loc) if line is None else line
        self.problems.append(Problem(line, 0, path_text(loc), message))

    def at(self, loc: Loc) -> Any:
        value = self.data
        for part in loc:
            in_dict = isinstance(value, dict) and part in value
            in_list = isinstance(value, list) and isinstance(part, int) and part < len(value)
            if not (in_dict or in_list):
                return None
            value = value[part]
        return value
