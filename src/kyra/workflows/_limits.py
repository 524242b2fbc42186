"""Time and size limits of template rendering: a deadline and bounded operations.

Why not a thread with a timeout: Python cannot stop a thread, so a template that loops
for an hour would keep burning a core (and the GIL, slowing the API and every worker in
the process) after its caller gave up. Why not `sys.settrace`: it slows every line of
Python in the thread, Kyra's own included, by an order of magnitude.

Instead the sandbox is cooperative at the only places where template work can grow
without bound: every loop iteration (loops are rewritten to iterate through
`Budget.tick`), every call (macros, methods, `loop()` of recursive loops) and every
intercepted operator tick the budget, which raises once the deadline has passed.
Between two ticks a template can only do bounded work, because the operations that
allocate in one step are bounded before they run: `range`, `*` and `**` (also on big
integers), `+` and `~` on text and lists, padding widths (`center`, `'%9999999d'`,
`'{:>9999999}'`), `replace` and `join`. The output of a template, and a native value
a lone `{{ expr }}` returns, are bounded too.

The budget of the rendering in progress lives in a context variable (per thread), so
one compiled template serves every run at once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

MAX_PAD = 100_000
"""Largest width a template may pad text to (`center`, `ljust`, `%-10d`, `{:>10}`)."""
MAX_INT_BITS = 65_536
"""Largest integer (in bits) `*` and `**` may produce (about 19,700 decimal digits)."""
MAX_ITEMS = 1_000_000
"""Largest list or text `range`, `*` and the padding filters may build in one step."""
MAX_SLOW_TEXT = 100_000
"""Longest input of filters that walk text in Python (`wordwrap`, `urlize`, `pprint`)."""

_WIDE_FORMAT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d{6,}|\d*\.(?:\*|\d{6,}))")
_WIDE_SPEC = re.compile(r"\{[^{}]*:[^{}]*(?:\d{6,}|\{)")


@dataclass(frozen=True)
class RenderLimits:
    """How long rendering one step's parameters may take, and how much text a
    template may produce (`KYRA_TEMPLATE_TIMEOUT_SECONDS`,
    `KYRA_TEMPLATE_MAX_OUTPUT_CHARS`)."""

    timeout_seconds: float = 1.0
    max_output_chars: int = 1_000_000

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0 or self.max_output_chars < 1:
            raise ValueError("template limits must be positive")


class LimitExceeded(Exception):
    """Raised inside rendering; the renderer turns it into a `TemplateProblem`."""

    def __init__(self, reason: str, limit: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


MESSAGES = {
    "deadline": "the template took longer than {seconds:g}s to render "
    "(KYRA_TEMPLATE_TIMEOUT_SECONDS)",
    "output": "the template produced more than {limit} characters (KYRA_TEMPLATE_MAX_OUTPUT_CHARS)",
    "too_big": "the result of {operation!r} would be too large",
    "pad": "{operation!r} pads to more than {limit} characters",
}


class Budget:
    """The limits of one rendering in progress: a deadline and a size bound."""

    __slots__ = ("deadline", "limits")

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.timeout_seconds

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            seconds = self.limits.timeout_seconds
            raise LimitExceeded(MESSAGES["deadline"].format(seconds=seconds), "deadline")

    @property
    def max_chars(self) -> int:
        return self.limits.max_output_chars

    def check_size(self, size: int, operation: str) -> None:
        if size > self.max_chars:
            raise LimitExceeded(MESSAGES["too_big"].format(operation=operation), "size")

    def iterate(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """What a template's `for` loop iterates: the items, one tick each."""
        for item in iterable:
            self.tick()
            yield item

    def collect(self, chunks: Iterable[str]) -> str:
        """Join a template's output, stopping as soon as it is too long."""
        parts: list[str] = []
        size = 0
        for chunk in chunks:
            size += len(chunk)
            if size > self.max_chars:
                raise LimitExceeded(MESSAGES["output"].format(limit=self.max_chars), "output")
            parts.append(chunk)
        return "".join(parts)


_UNLIMITED = RenderLimits(timeout_seconds=3600.0)
_current: ContextVar[Budget | None] = ContextVar("kyra_template_budget", default=None)


def current() -> Budget:
    """The budget of the rendering in progress (a fresh default one outside the
    renderer, never stored: a thread's later renderings start their own)."""
    budget = _current.get()
    return budget if budget is not None else Budget(_UNLIMITED)


def start(limits: RenderLimits) -> Any:
    """Begin a rendering under `limits`; returns the token `finish` needs."""
    return _current.set(Budget(limits))


def finish(token: Any) -> None:
    _current.reset(token)


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `*`, `**`, `+` and `%` whose result would be huge, before computing it."""
    budget = current()
    budget.tick()
    if operator == "**":
        _check_power(left, right)
    elif operator == "*":
        _check_product(budget, left, right)
    elif operator == "+":
        if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            budget.check_size(len(left) + len(right), "+")
    elif operator == "%" and isinstance(left, str):
        check_percent_format(left)


def check_percent_format(text: str) -> None:
    """`'%9999999d' % x` and `'%*d' % (width, x)` are refused (width from the data)."""
    if _WIDE_FORMAT.search(text):
        raise LimitExceeded(MESSAGES["pad"].format(operation="%", limit=MAX_PAD), "size")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_power(left: Any, right: Any) -> None:
    if not isinstance(right, int | float):
        return
    if abs(right) > 1_000:
        raise LimitExceeded(MESSAGES["too_big"].format(operation="**"), "size")
    if _is_int(left) and _is_int(right) and right > 0 and left.bit_length() * right > MAX_INT_BITS:
        raise LimitExceeded(MESSAGES["too_big"].format(operation="**"), "size")


def _check_product(budget: Budget, left: Any, right: Any) -> None:
    if _is_int(left) and _is_int(right):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise LimitExceeded(MESSAGES["too_big"].format(operation="*"), "size")
        return
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and _is_int(count):
            size = len(sequence) * count
            if size > MAX_ITEMS:
                raise LimitExceeded(MESSAGES["too_big"].format(operation="*"), "size")
            budget.check_size(size, "*")


def check_concat(parts: Iterable[Any]) -> str:
    """`a ~ b ~ c`: the joined text, refused when it would be too long."""
    budget = current()
    budget.tick()
    texts = [str(part) for part in parts]
    budget.check_size(sum(len(text) for text in texts), "~")
    return "".join(texts)


_PAD_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def check_call(obj: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Calls from templates: one tick, and the text methods that allocate by argument."""
    budget = current()
    budget.tick()
    owner = getattr(obj, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(obj, "__name__", "")
    if name in _PAD_METHODS:
        _check_widths(name, [*args, *kwargs.values()])
    elif name == "replace" and len(args) >= 2:
        check_replace(budget, owner, args[0], args[1])
    elif name == "join" and args:
        check_join(budget, owner, args[0])


def _check_widths(operation: str, values: list[Any]) -> None:
    if any(_is_int(v) and abs(v) > MAX_PAD for v in values):
        raise LimitExceeded(MESSAGES["pad"].format(operation=operation, limit=MAX_PAD), "size")


def check_widths(operation: str, values: list[Any]) -> None:
    """Padding filters (`center`, `indent`, `batch`, ...): no width above `MAX_PAD`."""
    _check_widths(operation, values)


def check_slow_input(operation: str, value: Any) -> None:
    """`wordwrap`, `urlize`, `indent` and `pprint` take seconds over megabytes of text."""
    if isinstance(value, str):
        size = len(value)
    else:
        try:
            check_value_size(value, Budget(RenderLimits(max_output_chars=MAX_SLOW_TEXT)))
            return
        except LimitExceeded:
            size = MAX_SLOW_TEXT + 1
    if size > MAX_SLOW_TEXT:
        raise LimitExceeded(MESSAGES["too_big"].format(operation=operation), "size")


def check_format_spec(text: str) -> None:
    """`'{:>99999999}'.format(x)` and `'{:>{}}'` (a width from the data) are refused;
    format arguments are data, so big numbers as values pass."""
    if _WIDE_SPEC.search(text):
        raise LimitExceeded(MESSAGES["pad"].format(operation="format", limit=MAX_PAD), "size")


def check_replace(budget: Budget, text: Any, old: Any, new: Any) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return
    hits = text.count(old) if old else len(text) + 1
    budget.check_size(len(text) + hits * len(new), "replace")


def check_join(budget: Budget, separator: Any, items: Any) -> None:
    if not isinstance(items, list | tuple):
        return
    size = len(str(separator)) * max(len(items) - 1, 0)
    budget.check_size(size, "join")
    for item in items:
        size += len(item) if isinstance(item, str) else 16
        if size > budget.max_chars:
            budget.check_size(size, "join")


def check_value_size(value: Any, budget: Budget) -> None:
    """A native value returned by `{{ expr }}`: bounded like text (strings count their
    characters, other items one each), without walking further than the limit."""
    limit = budget.max_chars
    seen = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            seen += len(item)
        elif isinstance(item, Mapping):
            seen += len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            seen += len(item)
            stack.extend(item)
        else:
            seen += 1
        if seen > limit:
            raise LimitExceeded(MESSAGES["output"].format(limit=limit), "output")
