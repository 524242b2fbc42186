"""Kyra: workflow automation whose workflows heal themselves.

The public Python API, for code that is not a Kyra workflow (pinned by
tests/api_surface/test_public_api.py; anything else is internal and may move):

    import kyra
    ctx = kyra.ErrorContext.from_exception(exc, provider="stripe")
    d = kyra.diagnose(ctx)            # d.error_class, d.safety (GREEN/YELLOW/RED), d.facts...
    @kyra.heal                        # retry GREEN failures, stop at once on YELLOW/RED

plus the taxonomy (`ErrorClass`, `Safety`, `Classification`, `Severity`, `FixStep`,
`TAXONOMY`). Integrations: `kyra.integrations.tenacity`, `.celery`, `.prefect`.

Names resolve on first use (module `__getattr__`), so `import kyra` stays light: the
diagnoser, pydantic models and scikit-learn load only when a name is touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyra.lazy import lazy_names

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "diagnose": "kyra.healing.diagnosis.engine",
    "Diagnosis": "kyra.healing.diagnosis.types",
    "ErrorContext": "kyra.engine.error_context",
    "ErrorClass": "kyra.healing.taxonomy",
    "Safety": "kyra.healing.taxonomy",
    "Classification": "kyra.healing.taxonomy",
    "Severity": "kyra.healing.taxonomy",
    "FixStep": "kyra.healing.taxonomy",
    "TAXONOMY": "kyra.healing.taxonomy",
    "heal": "kyra.integrations.heal",
}

__all__ = [
    "TAXONOMY",
    "Classification",
    "Diagnosis",
    "ErrorClass",
    "ErrorContext",
    "FixStep",
    "Safety",
    "Severity",
    "__version__",
    "diagnose",
    "heal",
]

if TYPE_CHECKING:
    from kyra.engine.error_context import ErrorContext
    from kyra.healing.diagnosis.engine import diagnose
    from kyra.healing.diagnosis.types import Diagnosis
    from kyra.healing.taxonomy import (
        TAXONOMY,
        Classification,
        ErrorClass,
        FixStep,
        Safety,
        Severity,
    )
    from kyra.integrations.heal import heal


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())
