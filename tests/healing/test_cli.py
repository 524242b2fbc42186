"""The `kyra diagnose` / `kyra eval diagnosis` command-line contract."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kyra.cli import app

CONTRACT = {
    "error_class",
    "safety",
    "classification",
    "severity",
    "auto_reparable",
    "confidence",
    "fix_steps",
    "estimated_cost",
    "explanation",
    "tier",
}
runner = CliRunner()


def test_diagnose_stdin_keeps_order_and_reports_bad_lines() -> None:
    lines = [
        json.dumps(
            {
                "provider": "slack",
                "status_code": 429,
                "headers": {"Retry-After": "3"},
                "body": '{"ok":false,"error":"ratelimited"}',
                "extra": "ignored",
            }
        ),
        "{not json",
        json.dumps({"status_code": "four hundred"}),
        json.dumps(
            {
                "error_type": "SMTPAuthenticationError",
                "error_message": "(535, b'5.7.8 Username and Password not accepted')",
            }
        ),
    ]
    result = runner.invoke(app, ["diagnose", "--lang", "en"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 4
    assert set(out[0]) >= CONTRACT and out[0]["error_class"] == "rate_limit_exceeded"
    assert out[0]["safety"] == "GREEN" and out[0]["tier"] == "rules"
    assert set(out[1]) == {"error"} and set(out[2]) == {"error"}
    assert out[3]["error_class"] == "invalid_credentials" and out[3]["auto_reparable"] is False
    assert isinstance(out[3]["estimated_cost"], float) and 0 <= out[3]["confidence"] <= 100


def test_diagnose_file_in_spanish(tmp_path: Path) -> None:
    source = tmp_path / "errors.jsonl"
    source.write_text(json.dumps({"status_code": 503}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["diagnose", "--input", str(source), "--lang", "es"])
    assert result.exit_code == 0
    assert "no está disponible" in json.loads(result.stdout)["explanation"]


def test_unreadable_input_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["diagnose", "--input", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2


def test_explain_names_the_deciding_signature() -> None:
    body = '{"error":{"errors":[{"reason":"rateLimitExceeded"}]}}'
    line = json.dumps({"status_code": 403, "body": body})
    result = runner.invoke(app, ["diagnose", "--explain"], input=line + "\n")
    assert result.exit_code == 0
    assert "code.rate_limit" in result.stdout and "ratelimitexceeded" in result.stdout


def test_eval_json_on_a_labelled_file(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        json.dumps({"status_code": 401, "label": "invalid_credentials"})
        + "\n"
        + json.dumps({"status_code": 503, "label": "service_temporarily_unavailable"})
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["eval", "diagnosis", str(corpus), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["accuracy"] == 1.0 and report["dangerous_errors"] == 0
    assert report["safety_confusion"]["RED"]["RED"] == 1


def test_eval_table_on_the_held_out_split() -> None:
    result = runner.invoke(app, ["eval", "diagnosis"])
    assert result.exit_code == 0
    assert "dangerous errors" in result.stdout and "Safety confusion" in result.stdout
