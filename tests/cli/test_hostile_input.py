"""Input a careless user or an attacker would give the CLI (issue 12, F1, F10, F12):
one clear message and exit 2 (or, for `kyra diagnose`, a note and the next line),
never a traceback, and nothing stored."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import Kyra

STEPS = "steps:\n  - {name: a, action: transform}\n"

BAD_DOCUMENTS = {
    "unknown time zone": (
        'name: mars\ntrigger: {cron: "* * * * *", timezone: "Mars/Olympus"}\n' + STEPS,
        "bad.yaml:2: trigger.timezone: unknown time zone 'Mars/Olympus'",
    ),
    "time zone as a path": (
        'name: escape\ntrigger: {cron: "* * * * *", timezone: "../../etc/passwd"}\n' + STEPS,
        "bad.yaml:2: trigger.timezone: unknown time zone '../../etc/passwd'",
    ),
    "interval below the minimum": (
        "name: fast\ntrigger: {interval: 10ms}\n" + STEPS,
        "bad.yaml:2: trigger.interval: an interval trigger fires at most every 1s",
    ),
    "NUL byte": (
        "name: x\x00\n" + STEPS,
        "bad.yaml:1:8: YAML syntax error: unacceptable character #x0000",
    ),
    "deep nesting": ("[" * 50_000, "nested more than 64 levels deep"),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_a_bad_document_is_exit_2_with_file_line_and_field(kyra: Kyra, case: str) -> None:
    text, expected = BAD_DOCUMENTS[case]
    kyra.write("bad.yaml", text)
    result = kyra("workflows", "apply", "bad.yaml")
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert json.loads(kyra("workflows", "list", "--json").stdout) == []


def test_the_minimum_interval_is_a_setting(kyra: Kyra) -> None:
    kyra.write("slow.yaml", "name: every-5s\ntrigger: {interval: 5s}\n" + STEPS)
    kyra.env["KYRA_MIN_TRIGGER_INTERVAL_SECONDS"] = "10"
    refused = kyra("workflows", "apply", "slow.yaml")
    assert refused.exit_code == 2
    assert "at most every 10s" in refused.stderr
    kyra.env["KYRA_MIN_TRIGGER_INTERVAL_SECONDS"] = "5"
    assert kyra("workflows", "apply", "slow.yaml").exit_code == 0


@pytest.mark.parametrize("lang", ["en", "es"])
def test_diagnose_reports_a_bad_line_and_goes_on(kyra: Kyra, lang: str) -> None:
    good = json.dumps({"error_type": "ReadTimeout", "error_message": "timed out"})
    lines = [good, "[" * 50_000, "", '{"a": ' * 500 + "1" + "}" * 500, "{oops", good]
    result = kyra("diagnose", input="\n".join(lines) + "\n", lang=lang)
    assert result.exit_code == 0, result.output
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("error_class") for o in outputs] == [
        "timeout_error",
        None,
        None,
        None,
        "timeout_error",
    ]
    assert "nested more than 64 levels" in outputs[1]["error"]
    notes = result.stderr.splitlines()
    skipped = {"en": "line {} skipped", "es": "línea {} omitida"}[lang]
    assert [note.split(": ")[1] for note in notes] == [skipped.format(n) for n in (2, 4, 5)]
    assert "Traceback" not in result.output
