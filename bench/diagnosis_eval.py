"""Generalization of the offline diagnosis over the whole KB and the corpus:
`python bench/diagnosis_eval.py [FOLDS]`.

Leave-one-provider-out (grouped k-fold: code tables and model rebuilt without the fold's
providers) beside a random k-fold split, over every example of the provider knowledge base
plus `data/corpus.jsonl`; then the shipped engine's p50/p95 latency per diagnosis and the
import time of the diagnoser (in a fresh process).
"""

from __future__ import annotations

import subprocess
import sys
import time

from kyra.healing.diagnosis import Diagnoser
from kyra.healing.diagnosis.corpus import context_of, load_corpus
from kyra.healing.diagnosis.crossval import DEFAULT_FOLDS, cross_validate
from kyra.healing.diagnosis.evaluate import EvalReport, percentile
from kyra.healing.diagnosis.kb import kb_examples, load_kb


def line(name: str, report: EvalReport) -> None:
    red = report.red_missed / max(1, report.red_total)
    print(
        f"{name:<24} n={report.total}  class={report.accuracy:.1%}  "
        f"safety={report.safety_accuracy:.1%}  dangerous={report.dangerous_errors}  "
        f"unknown={report.unknown / max(1, report.total):.1%}  "
        f"RED->non-RED={report.red_missed}/{report.red_total} ({red:.1%})"
    )
    confusion = report.safety_confusion
    print("    true\\said   " + "  ".join(f"{c:>6}" for c in confusion))
    for truth, row in confusion.items():
        print(f"    {truth:<10} " + "  ".join(f"{row[c]:>6}" for c in confusion))


def main(folds: int = DEFAULT_FOLDS) -> None:
    files = load_kb()
    examples = load_corpus() + kb_examples(files)
    print(f"{len(examples)} examples ({len(files)} provider files + corpus), {folds} folds")
    for name, grouped in (("leave-one-provider-out", True), ("random split", False)):
        report = cross_validate(examples, files, by_provider=grouped, folds=folds)
        line(name, report)
        if grouped:
            for cls, score in report.per_class.items():
                print(f"    {cls:<32} recall={score.recall:.2f}  n={score.support}")
    diagnoser = Diagnoser()
    contexts = [context_of(e) for e in examples]
    latencies = [diagnoser.diagnose(c).latency_ms for c in contexts for _ in range(3)]
    print(
        f"latency per diagnosis: p50={percentile(latencies, 50):.3f} ms  "
        f"p95={percentile(latencies, 95):.3f} ms"
    )
    imports = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import kyra.healing.diagnosis"], check=True)
        imports.append(time.perf_counter() - started)
    print(f"python -c 'import kyra.healing.diagnosis': min {min(imports):.3f} s (whole process)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDS)
