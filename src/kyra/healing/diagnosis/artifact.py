"""The compiled diagnosis data: code tables and the trained model, in one shipped file.

`python -m kyra.healing.diagnosis.build` writes `data/diagnosis_model.json.gz` from the
corpus and the provider knowledge base; the engine reads it on its first diagnosis (never
at import), so no YAML is parsed and nothing is trained while a workflow waits. gzip's
header carries no time stamp here, so the same inputs give the same bytes.
"""

from __future__ import annotations

import gzip
import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

ARTIFACT = "data/diagnosis_model.json.gz"
FORMAT = 1


def artifact_path() -> Path:
    """Where the packaged artifact lives."""
    return Path(str(resources.files("kyra.healing.diagnosis").joinpath(ARTIFACT)))


def dump(data: dict[str, Any]) -> bytes:
    """The artifact's bytes: sorted JSON, gzip without a time stamp or file name."""
    text = json.dumps({"format": FORMAT, **data}, sort_keys=True, separators=(",", ":"))
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0, filename="") as out:
        out.write(text.encode("utf-8"))
    return buffer.getvalue()


def load(path: Path | None = None) -> dict[str, Any]:
    """The artifact's content; ValueError when missing, corrupt or of another format."""
    target = path or artifact_path()
    try:
        data = json.loads(gzip.decompress(target.read_bytes()))
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(
            f"{target}: unreadable diagnosis model ({exc}); "
            "rebuild it with `python -m kyra.healing.diagnosis.build`"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{target}: diagnosis model of another format; rebuild it")
    return data
