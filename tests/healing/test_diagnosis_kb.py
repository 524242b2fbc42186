"""The provider knowledge base, its compiled artifact and the generalization evaluation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kyra.cli import app
from kyra.engine.error_context import ErrorContext
from kyra.healing.diagnosis import Diagnoser
from kyra.healing.diagnosis.artifact import artifact_path
from kyra.healing.diagnosis.build import build_bytes, code_tables
from kyra.healing.diagnosis.crossval import assign_folds
from kyra.healing.diagnosis.kb import KBError, example_group, load_kb, load_provider_file
from kyra.healing.taxonomy import ErrorClass

runner = CliRunner()

ACME = """\
provider: acme_pay
name: Acme Pay
sector: payments
sources: [https://acme.example/docs/errors]
codes:
  slow_down_please: rate_limit_exceeded
  card_refused: billing_issue
  field_absent: missing_required_field
examples:
  - label: rate_limit_exceeded
    status_code: 400
    body: '{"error": {"code": "slow_down_please", "message": "Easy."}}'
    code: slow_down_please
  - label: billing_issue
    status_code: 402
    body: '{"error": {"code": "card_refused", "message": "Refused."}}'
    code: card_refused
  - label: missing_required_field
    status_code: 400
    body: '{"error": {"code": "field_absent", "message": "amount is required"}}'
    code: field_absent
"""
ZETA = ACME.replace("acme_pay", "zeta_pay").replace("Acme", "Zeta")


def test_kb_files_load_with_their_codes_and_examples() -> None:
    files = load_kb()
    assert files, "the packaged knowledge base is empty"
    # A provider may document no codes of its own (Mollie answers with HTTP titles only),
    # but nearly all do.
    assert sum(bool(item.codes) for item in files) >= 0.9 * len(files)
    for item in files:
        assert item.examples, item.provider
        for example in item.examples:
            assert example["label"] != "unknown" and example["provider"] == item.provider


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (ACME.replace("label: billing_issue", "label: broke"), ":14: label"),
        (ACME.replace("code: field_absent", "code: nope"), ":18: code"),
        (
            ACME.replace("  card_refused: billing_issue", "  card_refused: payday"),
            "codes.card_refused",
        ),
        (ACME + "  - [not, a, mapping\n", ": not valid YAML"),
    ],
)
def test_bad_kb_file_names_file_line_and_field(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "acme_pay.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KBError) as caught:
        load_provider_file(path)
    assert str(caught.value).startswith(str(path)) and where in str(caught.value)


def test_provider_codes_are_data_looked_up_by_provider_and_shared(tmp_path: Path) -> None:
    (tmp_path / "acme_pay.yaml").write_text(ACME, encoding="utf-8")
    tables = code_tables(load_kb(tmp_path))
    diagnoser = Diagnoser(codes=tables)
    body = '{"error": {"code": "card_refused", "message": "Service unavailable"}}'
    # the step's own provider documents the code: its class, whatever the status says
    own = diagnoser.diagnose(ErrorContext(provider="acme_pay", status_code=503, body=body))
    assert own.error_class is ErrorClass.BILLING_ISSUE and own.facts.provider_code == "card_refused"
    # an undocumented provider sending the same word-code gets the shared meaning
    other = diagnoser.diagnose(ErrorContext(provider="nobody", status_code=400, body=body))
    assert other.error_class is ErrorClass.BILLING_ISSUE
    # a documented transient code is structure: GREEN even under a plain 400
    slow = '{"error": {"code": "slow_down_please"}}'
    green = diagnoser.diagnose(ErrorContext(provider="acme_pay", status_code=400, body=slow))
    assert green.error_class is ErrorClass.RATE_LIMIT_EXCEEDED


def test_protocol_codes_are_read_from_smtp_sqlstate_grpc_and_soap() -> None:
    diagnoser = Diagnoser()
    cases = [
        ErrorContext(
            error_type="psycopg.errors.SerializationFailure",
            error_message="could not serialize access (SQLSTATE 40001)",
        ),
        ErrorContext(error_type="grpc.RpcError", error_message="StatusCode.UNAUTHENTICATED: bad"),
        ErrorContext(
            status_code=500,
            body="<soapenv:Fault><faultcode>sf:INVALID_SESSION_ID</faultcode>"
            "<faultstring>Invalid Session ID</faultstring></soapenv:Fault>",
        ),
    ]
    from kyra.healing.diagnosis.observe import observe

    codes = [observe(case).codes for case in cases]
    assert "sqlstate:40001" in codes[0]
    assert "grpc:unauthenticated" in codes[1]
    assert "invalid_session_id" in codes[2]
    assert diagnoser.diagnose(cases[2]).error_class is ErrorClass.INVALID_CREDENTIALS


def test_folds_keep_each_provider_together() -> None:
    examples = [
        {"id": f"{i:04x}", "provider": p, "label": "billing_issue"}
        for i, p in enumerate(["gmail", "google_sheets", "slack", "stripe"] * 5)
    ]
    folds = assign_folds(examples, 3, by_provider=True)
    by_group: dict[str, set[int]] = {}
    for example, fold in zip(examples, folds, strict=True):
        by_group.setdefault(example_group(example), set()).add(fold)
    assert set(by_group) == {"google", "slack", "stripe"}
    assert all(len(f) == 1 for f in by_group.values())


def test_eval_by_provider_scores_providers_it_was_not_built_from(tmp_path: Path) -> None:
    (tmp_path / "acme_pay.yaml").write_text(ACME, encoding="utf-8")
    (tmp_path / "zeta_pay.yaml").write_text(ZETA, encoding="utf-8")
    args = [
        "eval",
        "diagnosis",
        str(tmp_path),
        "--by-provider",
        "--alone",
        "--folds",
        "2",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    grouped, shuffled = report["by_provider"], report["random"]
    assert grouped["total"] == shuffled["total"] == 6
    assert set(grouped["by_provider"]) == {"acme_pay", "zeta_pay"}
    assert grouped["dangerous_errors"] == 0
    # the other provider's file documents the same codes: shared meaning carries over
    assert grouped["correct"] == 6
    table = runner.invoke(
        app, ["eval", "diagnosis", str(tmp_path), "--by-provider", "--alone", "--folds", "2"]
    )
    assert "leave-one-provider-out" in table.stdout and "RED called non-RED" in table.stdout


def test_eval_bad_kb_file_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "acme_pay.yaml").write_text(ACME.replace("label: billing_issue", "label: x"))
    result = runner.invoke(app, ["eval", "diagnosis", str(tmp_path)])
    assert result.exit_code == 2
    assert "acme_pay.yaml:14: label" in result.output and "Traceback" not in result.output


@pytest.mark.timeout(600)  # trains the whole model again: ~40 s quiet, minutes on a busy machine
def test_shipped_artifact_is_what_the_build_makes() -> None:
    """Rebuilding from the corpus and the knowledge base gives the shipped bytes: run
    `python -m kyra.healing.diagnosis.build` after editing either."""
    assert artifact_path().read_bytes() == build_bytes()


def test_importing_the_diagnoser_loads_no_model_library() -> None:
    code = (
        "import sys, kyra.healing.diagnosis, kyra.cli; "
        "print(sorted(m for m in ('sklearn', 'scipy', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
