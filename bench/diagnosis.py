"""Diagnosis throughput and latency per tier (LLM off): `python bench/diagnosis.py [ROUNDS]`.

Replays the whole packaged corpus ROUNDS times through one warmed-up `Diagnoser` and
prints diagnoses per second plus p50/p95 latency per answering tier.
"""

from __future__ import annotations

import sys
import time

from kyra.healing.diagnosis import Diagnoser
from kyra.healing.diagnosis.corpus import context_of, load_corpus
from kyra.healing.diagnosis.evaluate import percentile


def main(rounds: int = 5) -> None:
    started = time.perf_counter()
    diagnoser = Diagnoser()
    _ = diagnoser.model
    print(f"model trained in {time.perf_counter() - started:.2f} s")
    contexts = [context_of(example) for example in load_corpus()]
    by_tier: dict[str, list[float]] = {}
    begin = time.perf_counter()
    for _ in range(rounds):
        for ctx in contexts:
            result = diagnoser.diagnose(ctx)
            by_tier.setdefault(result.tier.value, []).append(result.latency_ms)
    elapsed = time.perf_counter() - begin
    total = rounds * len(contexts)
    print(f"{total} diagnoses in {elapsed:.2f} s: {total / elapsed:,.0f} diagnoses/s")
    every = [v for values in by_tier.values() for v in values]
    for tier, values in [*sorted(by_tier.items()), ("all", every)]:
        print(
            f"  {tier:<6} n={len(values):>5}  p50={percentile(values, 50):.3f} ms  "
            f"p95={percentile(values, 95):.3f} ms"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
