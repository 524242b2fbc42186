"""Cross-validation that measures generalization: grouped by provider, next to random.

Leave-one-provider-out (grouped k-fold: every provider's examples fall in one fold) is the
honest figure: for each fold the code tables are compiled only from the other providers'
files and the model is trained only on the other providers' examples, then the fold is
diagnosed. The hand-written signatures stay (they are not derived from any example). The
random split (k-fold over examples) is printed beside it: the gap between the two is what
the engine memorised about providers instead of learning about errors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from kyra.healing.diagnosis.build import code_tables
from kyra.healing.diagnosis.corpus import context_of
from kyra.healing.diagnosis.engine import Diagnoser
from kyra.healing.diagnosis.evaluate import EvalReport, score
from kyra.healing.diagnosis.kb import ProviderFile, example_group, provider_group
from kyra.healing.diagnosis.model import LocalModel
from kyra.healing.diagnosis.signatures import SignatureSet
from kyra.healing.diagnosis.types import Diagnosis

DEFAULT_FOLDS = 10


def _bucket(key: str, folds: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % folds


def assign_folds(examples: list[dict[str, Any]], folds: int, *, by_provider: bool) -> list[int]:
    """Each example's fold: by its provider group (all of a provider together), or by its
    own identity (random split). Deterministic: the same data gives the same folds."""
    if by_provider:
        groups = sorted({example_group(e) for e in examples})
        # Spread groups round-robin in hash order: folds of similar size, stable.
        order = sorted(groups, key=lambda g: hashlib.sha256(g.encode()).hexdigest())
        fold_of = {g: i % folds for i, g in enumerate(order)}
        return [fold_of[example_group(e)] for e in examples]
    return [_bucket(str(e.get("id") or repr(sorted(e.items()))), folds) for e in examples]


def cross_validate(
    examples: list[dict[str, Any]],
    files: list[ProviderFile],
    *,
    by_provider: bool,
    folds: int = DEFAULT_FOLDS,
    scored: Callable[[dict[str, Any]], bool] | None = None,
) -> EvalReport:
    """Diagnose every example (or those `scored` selects) with tables and a model built
    without its fold, and score the lot."""
    fold_of = assign_folds(examples, folds, by_provider=by_provider)
    signatures = SignatureSet()
    chosen: list[dict[str, Any]] = []
    results: list[Diagnosis] = []
    for fold in range(folds):
        test = [e for e, f in zip(examples, fold_of, strict=True) if f == fold]
        test = [e for e in test if scored is None or scored(e)]
        if not test:
            continue
        train = [e for e, f in zip(examples, fold_of, strict=True) if f != fold]
        held = {example_group(e) for e in test}
        kept = [p for p in files if not by_provider or provider_group(p.provider) not in held]
        diagnoser = Diagnoser(
            signatures=signatures, model=LocalModel.train(train), codes=code_tables(kept)
        )
        chosen.extend(test)
        results.extend(diagnoser.diagnose(context_of(e)) for e in test)
    return score(chosen, results)
