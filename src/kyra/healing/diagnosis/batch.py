"""One JSON error in, one JSON object out: the service behind `kyra diagnose` (one line
each) and `POST /api/v1/diagnose` (one object, or a batch)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from kyra.engine.error_context import ErrorContext
from kyra.errors import InputError
from kyra.healing.diagnosis.corpus import INPUT_FIELDS
from kyra.healing.diagnosis.engine import Diagnoser
from kyra.healing.diagnosis.types import Diagnosis
from kyra.healing.settings import LLMSettings
from kyra.i18n import Lang
from kyra.inputs import check_depth, load_json

MAX_LINE_BYTES = 1_000_000
"""Longest input line read (an error context is a few kilobytes)."""


def parse_line(line: str) -> ErrorContext:
    """The `ErrorContext` of one input line; ValueError with a reason when malformed
    (invalid JSON, nested deeper than `kyra.inputs.MAX_DEPTH`, or too long)."""
    try:
        raw = load_json(line, max_bytes=MAX_LINE_BYTES)
    except InputError as exc:
        raise ValueError(exc.reason) from None
    return parse_object(raw)


def parse_object(raw: Any) -> ErrorContext:
    """The `ErrorContext` of one decoded input object; ValueError with a reason when not."""
    try:
        check_depth(raw)  # the API's items arrive decoded, unchecked
    except InputError as exc:
        raise ValueError(exc.reason) from None
    if not isinstance(raw, dict):
        raise ValueError("each line must be a JSON object")
    fields = {key: raw[key] for key in INPUT_FIELDS if key in raw}
    if "status_code" in fields and isinstance(fields["status_code"], bool):
        raise ValueError("status_code must be an integer or null")
    if (
        "headers" in fields
        and fields["headers"] is not None
        and not isinstance(fields["headers"], dict)
    ):
        raise ValueError("headers must be an object")
    try:
        return ErrorContext.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{where}: {first['msg']}") from exc


def diagnose_line(
    line: str,
    diagnoser: Diagnoser,
    *,
    lang: Lang = "en",
    llm: LLMSettings | None = None,
    explain_model: bool = False,
) -> tuple[dict[str, Any], Diagnosis | None]:
    """(output object, diagnosis); a malformed line gives `{"error": why}` and None."""
    try:
        ctx = parse_line(line)
    except ValueError as exc:
        return {"error": str(exc)}, None
    result = diagnoser.diagnose(ctx, lang=lang, llm=llm, explain_model=explain_model)
    return result.to_output(), result


def diagnose_object(
    raw: Any, diagnoser: Diagnoser, *, lang: Lang = "en"
) -> tuple[dict[str, Any], Diagnosis | None]:
    """`diagnose_line` for an already decoded object (the API's batch items)."""
    try:
        ctx = parse_object(raw)
    except ValueError as exc:
        return {"error": str(exc)}, None
    result = diagnoser.diagnose(ctx, lang=lang)
    return result.to_output(), result
