"""`kyra diagnose` and `kyra eval diagnosis`.

`kyra eval diagnosis FILE` scores the shipped engine on FILE (JSON Lines, a provider YAML
file or a folder of them); `--by-provider` measures generalization instead: each of FILE's
providers is diagnosed by code tables and a model built without it (leave-one-provider-out,
grouped k-fold), printed beside a random k-fold split. The base data (packaged corpus and
knowledge base) joins the training pool unless `--alone`.

`kyra diagnose` reads JSON Lines (a file or stdin) and prints one JSON object per line,
in order (the contract other tools depend on); it needs no database. A malformed line
(invalid, too deep, too long) gives `{"error": ...}` in its place and a note on stderr
naming its line number; the lines after it are diagnosed as usual. Exit codes: 0 when
every line was read, 2 when the input is unreadable.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kyra.cli.common import settings as process_settings
from kyra.healing.diagnosis.batch import diagnose_line
from kyra.healing.diagnosis.corpus import load_corpus, split_corpus
from kyra.healing.diagnosis.engine import Diagnoser
from kyra.healing.diagnosis.evaluate import EvalReport, evaluate
from kyra.healing.diagnosis.kb import KBError, ProviderFile, kb_examples, load_kb
from kyra.healing.diagnosis.types import Diagnosis
from kyra.i18n import Catalog, Lang, default_lang, normalise_lang, translate

DEFAULT_FOLDS = 10
EXIT_OK = 0
EXIT_UNREADABLE = 2

MESSAGES: Catalog = {
    "bad_line": {
        "en": "kyra diagnose: line {number} skipped: {reason}",
        "es": "kyra diagnose: línea {number} omitida: {reason}",
    },
}

eval_app = typer.Typer(help="Evaluate Kyra's engines on labelled data.", no_args_is_help=True)


def _read_lines(path: Path | None) -> list[str]:
    if path is None:
        return sys.stdin.read().splitlines()
    return path.read_text(encoding="utf-8").splitlines()


def _render_explain(console: Console, output: dict[str, object], result: Diagnosis) -> None:
    table = Table(title="kyra diagnose --explain", show_header=False)
    for key in ("error_class", "safety", "tier", "confidence", "auto_reparable", "fix_steps"):
        table.add_row(key, str(output[key]))
    evidence = result.evidence
    table.add_row("signature", evidence.signature or "-")
    table.add_row("matched", ", ".join(evidence.matched) or "-")
    table.add_row("other matches", ", ".join(evidence.other_matches) or "-")
    scores = json.dumps(evidence.model_scores) if evidence.model_scores else "-"
    table.add_row("model scores", scores)
    table.add_row("model features", ", ".join(evidence.model_features) or "-")
    table.add_row("facts", json.dumps(result.facts.model_dump(exclude_none=True)))
    table.add_row("notes", "; ".join(evidence.notes) or "-")
    table.add_row("explanation", result.explanation)
    console.print(table)


def diagnose_command(
    input_file: Annotated[
        Path | None, typer.Option("--input", "-i", help="JSON Lines file (default: stdin).")
    ] = None,
    use_llm: Annotated[
        bool, typer.Option("--llm/--no-llm", help="Consult the LLM (KYRA_LLM_* settings).")
    ] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="en or es.")] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show what decided, for a single error.")
    ] = False,
) -> None:
    """Diagnose errors given as JSON Lines; prints one JSON object per line."""
    language: Lang = normalise_lang(lang) if lang else default_lang()
    try:
        numbered = [(n, line) for n, line in enumerate(_read_lines(input_file), 1) if line.strip()]
        lines = [line for _, line in numbered]
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(json.dumps({"error": f"unreadable input: {exc}"}), err=True)
        raise typer.Exit(EXIT_UNREADABLE) from exc
    settings = process_settings().llm if use_llm else None
    if use_llm and settings is None:
        typer.echo(
            "kyra: --llm needs KYRA_LLM_MODEL (and a key/base URL); using rules and model only",
            err=True,
        )
    diagnoser = Diagnoser(llm=settings)
    if explain:
        if len(lines) != 1:
            typer.echo("kyra: --explain takes exactly one error line", err=True)
            raise typer.Exit(EXIT_UNREADABLE)
        output, result = diagnose_line(lines[0], diagnoser, lang=language, explain_model=True)
        if result is None:
            typer.echo(json.dumps(output, ensure_ascii=False))
            return
        _render_explain(Console(), output, result)
        return
    for number, line in numbered:
        output, result = diagnose_line(line, diagnoser, lang=language)
        if result is None:
            reason = str(output.get("error", ""))
            typer.echo(
                translate(MESSAGES, "bad_line", language, number=number, reason=reason), err=True
            )
        typer.echo(json.dumps(output, ensure_ascii=False))


def _load_labelled(path: Path) -> tuple[list[dict[str, Any]], list[ProviderFile]]:
    """Examples (and provider files) from a JSONL corpus, a provider YAML file or a folder."""
    if path.is_dir() or path.suffix in (".yaml", ".yml"):
        files = load_kb(path)
        return kb_examples(files), files
    return load_corpus(path), []


def _pool(
    examples: list[dict[str, Any]], files: list[ProviderFile], alone: bool
) -> tuple[list[dict[str, Any]], list[ProviderFile]]:
    """FILE's examples plus the base data they do not repeat (unless `alone`)."""
    if alone:
        return examples, files
    base_files = load_kb()
    named = {f.provider for f in files}
    seen = {e.get("id") for e in examples}
    base = [e for e in load_corpus() + kb_examples(base_files) if e.get("id") not in seen]
    return examples + base, files + [f for f in base_files if f.provider not in named]


def _render_generalization(
    console: Console, grouped: EvalReport, shuffled: EvalReport, folds: int
) -> None:
    summary = Table(title=f"Generalization ({folds} folds)")
    for column in ("metric", "leave-one-provider-out", "random split"):
        summary.add_column(column, justify="left" if column == "metric" else "right")
    rows: list[tuple[str, Callable[[EvalReport], str]]] = [
        ("examples", lambda r: str(r.total)),
        ("class accuracy", lambda r: f"{r.accuracy:.1%}"),
        ("safety-level accuracy", lambda r: f"{r.safety_accuracy:.1%}"),
        ("dangerous (non-GREEN called GREEN)", lambda r: str(r.dangerous_errors)),
        ("unknown", lambda r: f"{r.unknown} ({r.unknown / max(1, r.total):.1%})"),
        (
            "RED called non-RED",
            lambda r: f"{r.red_missed}/{r.red_total} ({r.red_missed / max(1, r.red_total):.1%})",
        ),
    ]
    for name, cell in rows:
        summary.add_row(name, cell(grouped), cell(shuffled))
    console.print(summary)
    classes = Table(title="Per class, leave-one-provider-out")
    for column in ("class", "precision", "recall", "support"):
        classes.add_column(column, justify="left" if column == "class" else "right")
    for name, score in grouped.per_class.items():
        classes.add_row(name, f"{score.precision:.2f}", f"{score.recall:.2f}", str(score.support))
    console.print(classes)
    for title, report in (("leave-one-provider-out", grouped), ("random split", shuffled)):
        _render_confusion(console, report, f"Safety confusion, {title} (rows: true)")
    worst = sorted(
        grouped.by_provider.items(), key=lambda item: item[1]["correct"] / item[1]["total"]
    )[:10]
    providers = Table(title="Weakest providers, leave-one-provider-out")
    for column in ("provider", "right", "of"):
        providers.add_column(column, justify="left" if column == "provider" else "right")
    for name, counts in worst:
        providers.add_row(name, str(counts["correct"]), str(counts["total"]))
    console.print(providers)


def _render_confusion(console: Console, report: EvalReport, title: str) -> None:
    confusion = Table(title=title)
    confusion.add_column("true \\ diagnosed")
    colours = list(report.safety_confusion)
    for colour in colours:
        confusion.add_column(colour, justify="right")
    for colour in colours:
        confusion.add_row(colour, *(str(report.safety_confusion[colour][c]) for c in colours))
    console.print(confusion)


def _render_report(console: Console, report: EvalReport) -> None:
    summary = Table(title="Diagnosis evaluation")
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    summary.add_row("examples", str(report.total))
    summary.add_row("accuracy", f"{report.accuracy:.1%}")
    summary.add_row("dangerous errors", str(report.dangerous_errors))
    summary.add_row("total cost (USD)", f"{report.total_cost:.4f}")
    for tier, stats in report.latency_ms.items():
        summary.add_row(f"latency {tier} p50/p95 (ms)", f"{stats['p50']:.2f} / {stats['p95']:.2f}")
    console.print(summary)
    classes = Table(title="Per class")
    for column in ("class", "precision", "recall", "support"):
        classes.add_column(column, justify="left" if column == "class" else "right")
    for name, score in report.per_class.items():
        classes.add_row(name, f"{score.precision:.2f}", f"{score.recall:.2f}", str(score.support))
    console.print(classes)
    _render_confusion(console, report, "Safety confusion (rows: true, columns: diagnosed)")


@eval_app.command("diagnosis")
def eval_diagnosis_command(
    corpus: Annotated[
        Path | None,
        typer.Argument(
            help="Labelled JSONL (input fields + label), a provider YAML file or a folder of "
            "them. Default: the corpus's held-out split."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    use_llm: Annotated[bool, typer.Option("--llm/--no-llm")] = False,
    lang: Annotated[str | None, typer.Option("--lang")] = None,
    by_provider: Annotated[
        bool,
        typer.Option(
            "--by-provider",
            help="Leave-one-provider-out beside a random split (tables, model rebuilt per fold).",
        ),
    ] = False,
    folds: Annotated[int, typer.Option("--folds", min=2, max=100)] = DEFAULT_FOLDS,
    alone: Annotated[
        bool, typer.Option("--alone", help="With --by-provider: train on FILE only.")
    ] = False,
) -> None:
    """Accuracy, per-class precision/recall, safety confusion and dangerous errors."""
    files: list[ProviderFile] = []
    try:
        if corpus is None:
            examples = split_corpus(load_corpus())[1]
        else:
            examples, files = _load_labelled(corpus)
    except KBError as exc:
        typer.echo(f"kyra: {exc}", err=True)
        raise typer.Exit(EXIT_UNREADABLE) from exc
    except (OSError, ValueError, KeyError) as exc:
        typer.echo(f"kyra: cannot read {corpus}: {exc}", err=True)
        raise typer.Exit(EXIT_UNREADABLE) from exc
    if not examples:
        typer.echo(f"kyra: {corpus} holds no labelled examples", err=True)
        raise typer.Exit(EXIT_UNREADABLE)
    if by_provider:
        from kyra.healing.diagnosis.crossval import cross_validate  # trains: needs sklearn

        ids = {id(e) for e in examples}
        pool, pool_files = _pool(examples, files, alone)
        reports = [
            cross_validate(
                pool, pool_files, by_provider=grouped, folds=folds, scored=lambda e: id(e) in ids
            )
            for grouped in (True, False)
        ]
        if as_json:
            payload = {"by_provider": reports[0].model_dump(), "random": reports[1].model_dump()}
            typer.echo(json.dumps(payload, indent=2))
            return
        _render_generalization(Console(), reports[0], reports[1], folds)
        return
    settings = process_settings().llm if use_llm else None
    language: Lang = normalise_lang(lang) if lang else default_lang()
    report = evaluate(examples, Diagnoser(llm=settings), lang=language, llm=settings)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    _render_report(Console(), report)


def register(app: typer.Typer) -> None:
    """Adds `diagnose` and the `eval` group (with `eval diagnosis`) to the main app."""
    app.command("diagnose")(diagnose_command)
    app.add_typer(eval_app, name="eval")
