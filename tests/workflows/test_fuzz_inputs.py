"""A few hundred generated cases of each fuzz target of `bench/fuzz_inputs.py` (the
big run takes --cases 100000): the workflow loader, the template renderer and
`kyra diagnose` lines fail only with their documented errors, never a traceback."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from bench.fuzz_inputs import Tally, fuzz_diagnose, fuzz_loader, fuzz_templates


@pytest.mark.parametrize(
    ("target", "cases"), [(fuzz_loader, 150), (fuzz_templates, 100), (fuzz_diagnose, 150)]
)
def test_generated_inputs_only_fail_with_documented_errors(
    target: Callable[[int], Tally], cases: int
) -> None:
    tally = target(cases)
    assert tally.cases >= cases
    assert tally.failures == 0, tally.examples
