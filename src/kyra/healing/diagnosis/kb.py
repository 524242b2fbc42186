"""The provider-error knowledge base: `data/providers/<provider>.yaml`, one file a provider.

Each file holds the provider's documented codes (`codes: {code: class}`, DATA the
diagnosis looks up) and examples of errors as the provider sends them (training and
evaluation). The format is in docs/diagnosis.md. Parsing YAML costs ~1 s for the whole
base, so this module is used by the build (`python -m kyra.healing.diagnosis.build`),
the evaluation and the tests, never on the diagnosis path: the engine reads the compiled
artifact (`artifact.py`).

Bad files fail with `file:line: field: why`, so an author can find the entry at once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kyra.healing.diagnosis.observe import normalise_provider
from kyra.healing.taxonomy import ErrorClass

EXAMPLE_KEYS = frozenset(
    {
        "label",
        "status_code",
        "headers",
        "body",
        "error_type",
        "error_message",
        "step_action",
        "code",
        "source",
    }
)
FILE_KEYS = frozenset({"provider", "name", "sector", "sources", "codes", "examples"})
VENDOR_PREFIXES = ("google", "microsoft", "aws", "amazon", "azure", "meta", "facebook")
"""A vendor's products share envelopes and codes: they are one group when holding out."""


class KBError(ValueError):
    """A malformed knowledge-base file; the message starts with `file:line`."""


class _LineLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc,name-defined]
    """Safe loader that remembers each mapping's line (as `__line__`) for error messages."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


@dataclass
class ProviderFile:
    """One provider's codes and examples."""

    provider: str
    sector: str
    codes: dict[str, ErrorClass]
    examples: list[dict[str, Any]] = field(default_factory=list)


def provider_group(provider: str | None, step_action: str | None = None) -> str:
    """The group a provider is held out with: `google_sheets`, `gmail` → `google`."""
    name = normalise_provider(provider, step_action)
    for prefix in VENDOR_PREFIXES:
        if name == prefix or name.startswith(prefix + "_"):
            return "aws" if prefix == "amazon" else ("meta" if prefix == "facebook" else prefix)
    return name


def example_group(example: dict[str, Any]) -> str:
    """The held-out group of a labelled example: its provider, else where it came from
    (the documenting library or site), so provider-less corpus rows are grouped too."""
    group = provider_group(example.get("provider"), example.get("step_action"))
    if group:
        return group
    source = str(example.get("source") or "")
    if "://" in source:
        host = source.split("://", 1)[1].split("/", 1)[0]
        return "site:" + host.removeprefix("www.")
    return "lib:" + (source.split(" ", 1)[0].split("/", 1)[0].split(".", 1)[0] or "none")


def _where(path: Path, item: dict[str, Any] | None) -> str:
    line = item.get("__line__") if isinstance(item, dict) else None
    return f"{path}:{line}" if line else str(path)


def _label(where: str, raw: dict[str, Any]) -> ErrorClass:
    try:
        label = ErrorClass(raw.get("label"))
    except ValueError:
        raise KBError(f"{where}: label: {raw.get('label')!r} is not an error class") from None
    if label is ErrorClass.UNKNOWN:
        raise KBError(f"{where}: label: examples are labelled with a real class, not unknown")
    return label


def _example(path: Path, provider: str, raw: Any, codes: dict[str, ErrorClass]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise KBError(f"{path}: examples: each example must be a mapping")
    where = _where(path, raw)
    unknown = set(raw) - EXAMPLE_KEYS - {"__line__"}
    if unknown:
        raise KBError(f"{where}: {sorted(unknown)[0]}: unknown key")
    label = _label(where, raw)
    status = raw.get("status_code")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        raise KBError(f"{where}: status_code: must be an integer")
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict):
        raise KBError(f"{where}: headers: must be a mapping")
    if "code" in raw and str(raw["code"]).lower() not in codes:
        raise KBError(f"{where}: code: {raw['code']!r} is not among the file's codes")
    example: dict[str, Any] = {
        "provider": provider,
        "label": label.value,
        "source": str(raw.get("source") or ""),
        "line": raw["__line__"],
        "file": path.name,
    }
    if status is not None:
        example["status_code"] = status
    if headers:
        example["headers"] = {str(k): str(v) for k, v in headers.items() if k != "__line__"}
    for key in ("body", "error_type", "error_message", "step_action"):
        if raw.get(key) not in (None, ""):
            example[key] = str(raw[key])
    if "code" in raw:
        example["code"] = str(raw["code"])
    if not (example.get("body") or example.get("error_message") or status is not None):
        raise KBError(f"{where}: body: an example needs a body, a message or a status")
    fields = {k: example.get(k) for k in ("provider", "status_code", "headers", "body")}
    fields.update({k: example.get(k) for k in ("error_type", "error_message", "step_action")})
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
    example["id"] = digest[:12]
    return example


def load_provider_file(path: Path) -> ProviderFile:
    """Parse and validate one provider file."""
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise KBError(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise KBError(f"{path}: unreadable: {exc}") from exc
    if not isinstance(doc, dict):
        raise KBError(f"{path}: the file must be a mapping (provider, codes, examples)")
    for key in ("provider", "codes", "examples"):
        if key not in doc:
            raise KBError(f"{path}: {key}: missing")
    provider = str(doc["provider"])
    raw_codes = doc["codes"] or {}
    if not isinstance(raw_codes, dict):
        raise KBError(f"{_where(path, doc)}: codes: must be a mapping code -> class")
    codes: dict[str, ErrorClass] = {}
    for code, cls in raw_codes.items():
        if code == "__line__":
            continue
        try:
            codes[str(code).lower()] = ErrorClass(cls)
        except ValueError:
            raise KBError(
                f"{_where(path, raw_codes)}: codes.{code}: {cls!r} is not an error class"
            ) from None
    examples = [_example(path, provider, raw, codes) for raw in doc["examples"] or []]
    return ProviderFile(provider, str(doc.get("sector") or ""), codes, examples)


def providers_dir() -> Path:
    """The packaged knowledge base's folder."""
    return Path(str(resources.files("kyra.healing.diagnosis").joinpath("data/providers")))


def kb_files(path: Path | None = None) -> list[Path]:
    """The provider files under `path` (default: the packaged base), in name order."""
    folder = path or providers_dir()
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def load_kb(path: Path | None = None) -> list[ProviderFile]:
    """Every provider file (a folder, or one file); raises KBError on the first bad entry."""
    if path is not None and path.is_file():
        return [load_provider_file(path)]
    files = [load_provider_file(p) for p in kb_files(path)]
    seen: dict[str, str] = {}
    for item in files:
        if item.provider in seen:
            raise KBError(f"provider {item.provider!r} is defined twice ({seen[item.provider]})")
        seen[item.provider] = item.provider
    return files


def kb_examples(files: list[ProviderFile]) -> list[dict[str, Any]]:
    """All examples of `files`, each carrying its provider."""
    return [example for item in files for example in item.examples]


def fingerprint(paths: list[Path]) -> str:
    """A digest of the given files' bytes: tells whether a compiled artifact is current."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]
