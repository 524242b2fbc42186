"""`kyra rules apply|list|test`, in English and Spanish."""

from __future__ import annotations

import json
from collections.abc import Callable

from kyra.cli import rules as rules_cli
from kyra.healing import rules as healing_rules
from kyra.i18n import missing_translations
from tests.rules.conftest import Cli

RULES = """\
rules:
  - name: acme-slow-down
    match: {provider: acme, status: 400, error_code: ACME_PACE}
    remedy: {class: rate_limit_exceeded, max_request_delay: 10, max_retries: 2}
  - name: gateway
    priority: 3
    match: {status: 5xx, message: 'upstream [a-z]+ error'}
    remedy: {class: service_temporarily_unavailable, max_delay: 60}
    safety: propose
"""
RATE_LIMIT = json.dumps(
    {"provider": "acme", "status_code": 429, "error_message": "Too Many Requests"}
)
SLOW_DOWN = json.dumps(
    {
        "provider": "acme",
        "status_code": 400,
        "headers": {"Retry-After": "3"},
        "body": '{"error": {"code": "ACME_PACE"}}',
        "step_name": "push",
    }
)


def test_apply_then_list_shows_the_rules_in_the_order_they_are_tried(cli: Cli) -> None:
    path = cli.write("rules.yaml", RULES)
    first = cli("apply", str(path))
    assert first.exit_code == 0, first.output
    assert "Rules v1 applied: 2 rule(s)" in first.stdout
    again = cli("apply", str(path))
    assert "Rules unchanged (still v1)." in again.stdout
    listed = cli("list")
    assert listed.exit_code == 0
    assert "Rules v1, applied by user" in listed.stdout
    assert listed.stdout.index("gateway") < listed.stdout.index("acme-slow-down")
    assert "[a-z]+" in listed.stdout  # patterns are shown as text, not as markup
    data = json.loads(cli("list", "--json").stdout)
    assert (data["version"], data["active"], data["author"]) == (1, True, "user")
    assert [r["name"] for r in data["rules"]] == ["acme-slow-down", "gateway"]


def test_apply_json_and_author(cli: Cli) -> None:
    path = cli.write("rules.yaml", RULES)
    data = json.loads(cli("apply", str(path), "--author", "ana", "--json").stdout)
    assert (data["version"], data["created"], data["author"]) == (1, True, "ana")
    data = json.loads(cli("apply", str(path), "--json").stdout)
    assert (data["version"], data["created"]) == (1, False)


def test_an_invalid_file_is_refused_with_its_lines_and_nothing_is_stored(cli: Cli) -> None:
    path = cli.write(
        "bad.yaml",
        """\
        rules:
          - name: greedy
            match: {status: 429}
            remedy: {class: rate_limit_exceeded, max_request_delay: 600}
        """,
    )
    result = cli("apply", str(path))
    assert result.exit_code == 2
    assert f"{path}:4: rules[0].remedy.max_request_delay: cannot widen the bound" in result.stderr
    assert json.loads(cli("list", "--json").stdout)["version"] == 0


def test_apply_is_enterprise_only(make_cli: Callable[[str], Cli]) -> None:
    cli = make_cli("pro")
    path = cli.write("rules.yaml", RULES)
    result = cli("apply", str(path))
    assert result.exit_code == 2
    assert "custom rules are an enterprise feature; tenant 'default' is on the pro tier" in (
        " ".join(result.stderr.split())
    )
    spanish = cli("apply", str(path), lang="es")
    assert "las reglas personalizadas son del plan enterprise" in " ".join(spanish.stderr.split())
    listed = cli("list")
    assert "not active on the pro tier" in listed.stdout


def test_test_shows_the_rule_the_class_the_patch_and_the_bounds(cli: Cli) -> None:
    cli("apply", str(cli.write("rules.yaml", RULES)))
    result = cli("test", "--json", input=SLOW_DOWN)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["rule"] == "acme-slow-down"
    assert data["matched"] == ["provider=acme", "status=400", "error_code=acme_pace"]
    assert data["final"]["error_class"] == "rate_limit_exceeded"
    assert data["final"]["action"] == "propose"  # Kyra's own diagnosis was not GREEN
    assert data["remedy"]["ops"] == [
        {"op": "set_request_delay", "seconds": 1.0},
        {
            "op": "set_retry",
            "max_retries": 2,
            "backoff": "exponential",
            "initial_delay": 1.0,
            "max_delay": 60.0,
            "multiplier": 2.0,
        },
    ]
    assert data["remedy"]["rerun_delay"] == 3.0
    assert data["bounds"]["max_request_delay"] == 10 and data["bounds"]["max_retries"] == 2
    assert data["active"] is True


def test_test_without_a_matching_rule_shows_kyra_s_own_remedy(cli: Cli) -> None:
    cli("apply", str(cli.write("rules.yaml", RULES)))
    data = json.loads(cli("test", "--json", input=RATE_LIMIT).stdout)
    assert data["rule"] is None and data["final"]["action"] == "auto"
    assert data["remedy"]["ops"][0] == {"op": "set_request_delay", "seconds": 1.0}
    assert data["bounds"]["max_request_delay"] == 60


def test_test_a_draft_file_and_read_the_error_from_a_file(cli: Cli) -> None:
    draft = cli.write(
        "draft.yaml",
        """\
        rules:
          - name: hands-off
            match: {status: 429}
            remedy: {class: rate_limit_exceeded}
            safety: never
        """,
    )
    error = cli.write("error.json", RATE_LIMIT)
    data = json.loads(cli("test", "--rules", str(draft), "--input", str(error), "--json").stdout)
    assert data["rule"] == "hands-off"
    assert (data["final"]["safety"], data["final"]["action"], data["remedy"]) == (
        "RED",
        "never",
        None,
    )


def test_test_renders_a_table_in_english_and_spanish(cli: Cli) -> None:
    cli("apply", str(cli.write("rules.yaml", RULES)))
    english = cli("test", input=SLOW_DOWN)
    assert english.exit_code == 0
    for text in ("acme-slow-down", "proposed to a person", "set_request_delay", "Bounds"):
        assert text in english.stdout
    spanish = cli("test", input=SLOW_DOWN, lang="es")
    for text in ("Regla", "se propone a una persona", "Límites"):
        assert text in spanish.stdout


def test_test_refuses_unreadable_input(cli: Cli) -> None:
    for bad in ("not json", "[1, 2]", '{"status_code": true}'):
        result = cli("test", input=bad)
        assert result.exit_code == 2
        assert "the error must be one JSON object" in " ".join(result.stderr.split())


def test_test_on_a_tier_without_rules_is_a_preview(make_cli: Callable[[str], Cli]) -> None:
    cli = make_cli("free")
    draft = cli.write("draft.yaml", RULES)
    result = cli("test", "--rules", str(draft), "--json", input=SLOW_DOWN)
    data = json.loads(result.stdout)
    assert (data["rule"], data["active"]) == ("acme-slow-down", False)
    assert (
        "not active on the free tier" in cli("test", "--rules", str(draft), input=SLOW_DOWN).stdout
    )


def test_every_text_has_both_languages() -> None:
    assert missing_translations(rules_cli.TEXT) == []
    assert missing_translations(healing_rules.TEXT) == []
