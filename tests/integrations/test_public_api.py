"""The curated public API: exactly these names, resolved lazily, `import kyra` stays light."""

from __future__ import annotations

import subprocess
import sys

import kyra
from kyra.healing.taxonomy import TAXONOMY, ErrorClass, Safety

PUBLIC = [
    "Classification",
    "Diagnosis",
    "ErrorClass",
    "ErrorContext",
    "FixStep",
    "Safety",
    "Severity",
    "TAXONOMY",
    "__version__",
    "diagnose",
    "heal",
]


def test_the_public_names_are_pinned() -> None:
    assert sorted(kyra.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(kyra, name) is not None
    assert set(PUBLIC) <= set(dir(kyra))


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        kyra.not_a_thing  # noqa: B018
    except AttributeError as exc:
        assert "not_a_thing" in str(exc)
    else:
        raise AssertionError("kyra.not_a_thing resolved")


def test_import_kyra_loads_neither_pydantic_nor_sklearn_nor_the_diagnoser() -> None:
    probe = (
        "import sys, kyra; heavy = [m for m in ('pydantic', 'sklearn', 'numpy', "
        "'kyra.healing.diagnosis.engine', 'sqlalchemy') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_diagnose_a_context_built_from_an_exception_through_the_public_names() -> None:
    ctx = kyra.ErrorContext.from_exception(TimeoutError("the read timed out"), provider="acme")
    result = kyra.diagnose(ctx)
    assert isinstance(result, kyra.Diagnosis)
    assert result.error_class is kyra.ErrorClass.TIMEOUT_ERROR
    assert result.safety is kyra.Safety.GREEN
    assert kyra.TAXONOMY is TAXONOMY
    assert kyra.TAXONOMY[ErrorClass.INVALID_CREDENTIALS].safety is Safety.RED
