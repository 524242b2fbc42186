"""Build the shipped diagnosis data: `python -m kyra.healing.diagnosis.build [--check]`.

Reads the corpus (`data/corpus.jsonl`, training split only: its held-out slice stays
unseen) and the provider knowledge base (`data/providers/*.yaml`), compiles the provider
code tables, trains the local model, and writes `data/diagnosis_model.json.gz`. Training
is deterministic, so rebuilding from the same inputs gives the same bytes; `--check`
exits 1 when the shipped file is not what the inputs build (CI and the tests use it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from kyra.healing.diagnosis import artifact
from kyra.healing.diagnosis.codes import DANGER, CodeTables
from kyra.healing.diagnosis.corpus import context_of, load_corpus, split_corpus
from kyra.healing.diagnosis.kb import ProviderFile, kb_examples, kb_files, load_kb
from kyra.healing.diagnosis.model import LocalModel
from kyra.healing.diagnosis.observe import normalise_provider, observe
from kyra.healing.taxonomy import ErrorClass, info


def code_tables(files: list[ProviderFile]) -> CodeTables:
    """Provider -> code -> class, keyed as the engine names providers (`gmail` → `google`);
    where two files of one provider disagree on a code, the more dangerous class wins."""
    tables: dict[str, dict[str, ErrorClass]] = {}
    sectors: dict[str, str] = {}
    for item in files:
        key = normalise_provider(item.provider, None)
        table = tables.setdefault(key, {})
        sectors.setdefault(key, item.sector)
        for code, cls in item.codes.items():
            old = table.get(code)
            if old is None or DANGER[info(cls).safety] > DANGER[info(old).safety]:
                table[code] = cls
    built = CodeTables.build(tables, sectors)
    built.umbrella = umbrella_codes(files, built)
    return built


UMBRELLA_PURITY = 0.6
UMBRELLA_MIN_EXAMPLES = 3


def umbrella_codes(files: list[ProviderFile], tables: CodeTables) -> set[str]:
    """Codes whose examples (those carrying the code) agree with the code's class less
    than `UMBRELLA_PURITY` of the time: `invalid_request_error` arrives with missing
    fields, bad formats and version errors alike, so the code alone should not decide."""
    seen: dict[str, list[bool]] = {}
    for item in files:
        own = tables.by_provider.get(normalise_provider(item.provider, None), {})
        for example in item.examples:
            for code in observe(context_of(example)).codes:
                cls = own.get(code) or tables.shared.get(code)
                if cls is not None:
                    seen.setdefault(code, []).append(cls.value == example["label"])
    return {
        code
        for code, agree in seen.items()
        if len(agree) >= UMBRELLA_MIN_EXAMPLES and sum(agree) / len(agree) < UMBRELLA_PURITY
    }


def compile_data(examples: list[dict[str, Any]], files: list[ProviderFile]) -> dict[str, Any]:
    """The artifact's content from training examples and the provider files."""
    return {
        "codes": code_tables(files).to_json(),
        "model": LocalModel.train(examples).params,
    }


def training_set(files: list[ProviderFile]) -> list[dict[str, Any]]:
    """What the shipped model learns from: the corpus's training split and the KB."""
    train, _ = split_corpus(load_corpus())
    return train + kb_examples(files)


def build_bytes() -> bytes:
    """The artifact the current inputs build."""
    files = load_kb()
    data = compile_data(training_set(files), files)
    data["inputs"] = {"kb_files": len(kb_files()), "examples": len(training_set(files))}
    return artifact.dump(data)


def main(argv: list[str]) -> int:
    target = artifact.artifact_path()
    fresh = build_bytes()
    if "--check" in argv:
        current = target.read_bytes() if target.exists() else b""
        if current != fresh:
            print(f"{target} is stale: run python -m kyra.healing.diagnosis.build", file=sys.stderr)
            return 1
        print(f"{target} is current")
        return 0
    Path(target).write_bytes(fresh)
    print(f"wrote {target} ({len(fresh):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
