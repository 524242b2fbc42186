"""The labelled corpus (`data/corpus.jsonl`) and its deterministic train/held-out split.

Each line is one error as `kyra diagnose` reads it, plus `label` (an `ErrorClass`),
`source` (the documentation page or library module it was written from) and `id`
(a hash of the input fields). An example is held out when its id, read as a hex number,
is divisible by 4 (about 25 %): stable across edits and independent of line order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from kyra.engine.error_context import ErrorContext
from kyra.healing.taxonomy import ErrorClass

HOLDOUT_MODULUS = 4
INPUT_FIELDS = (
    "provider",
    "step_action",
    "status_code",
    "headers",
    "error_type",
    "error_message",
    "body",
)


def corpus_text() -> str:
    """The packaged corpus file's text."""
    return (
        resources.files("kyra.healing.diagnosis")
        .joinpath("data/corpus.jsonl")
        .read_text(encoding="utf-8")
    )


def parse_examples(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Parse JSON lines, skipping blanks; every example must carry a valid `label`."""
    examples: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        example = json.loads(line)
        if not isinstance(example, dict):
            raise ValueError(f"line {number}: not a JSON object")
        ErrorClass(example["label"])
        examples.append(example)
    return examples


def load_corpus(path: Path | None = None) -> list[dict[str, Any]]:
    """The packaged corpus, or the JSONL file at `path`."""
    text = path.read_text(encoding="utf-8") if path else corpus_text()
    return parse_examples(text.splitlines())


def is_holdout(example: dict[str, Any]) -> bool:
    """True for the deterministic ~25 % slice the model never trains on."""
    ident = str(example.get("id", ""))
    try:
        return int(ident, 16) % HOLDOUT_MODULUS == 0
    except ValueError:
        return False


def split_corpus(
    examples: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, held-out)."""
    train = [e for e in examples if not is_holdout(e)]
    held = [e for e in examples if is_holdout(e)]
    return train, held


def context_of(example: dict[str, Any]) -> ErrorContext:
    """The `ErrorContext` for one example (unknown fields ignored)."""
    return ErrorContext.model_validate({k: example.get(k) for k in INPUT_FIELDS if k in example})
