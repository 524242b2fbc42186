"""One settings tree (#14 item 1): the root `Settings` reads the environment and
`kyra.toml` once; each section's documented `KYRA_<SECTION>_*` name reaches the part that
uses it through the real CLI, and a bad value is one line with exit 2, not a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kyra.demo import FaultServer
from kyra.settings import Settings
from tests.cli.conftest import Kyra
from tests.cli.test_healing_cli import _flow
from tests.cli.test_operations import _python
from tests.healing.llm_server import serve as serve_llm
from tests.servers.webhook import CannedReply, WebhookReceiver


def _flaky_flow(kyra: Kyra, fault_server: FaultServer) -> None:
    # One 503, then 200: a GREEN failure `kyra run` heals with a re-run by default.
    _flow(kyra, "flaky", f"{fault_server.url}/flaky/{kyra.root.name}?fail=1&status=503")


def test_healing_section_reaches_the_gate(kyra: Kyra, fault_server: FaultServer) -> None:
    # A fixable failure `kyra run` heals by default is blocked when
    # KYRA_HEALING_MAX_FIXES_PER_HOUR allows no fix.
    kyra.env["KYRA_HEALING_MAX_FIXES_PER_HOUR"] = "0"
    _flaky_flow(kyra, fault_server)
    assert kyra("run", "flaky").exit_code != 0
    [fix] = json.loads(kyra("fixes", "list", "--json", "--workflow", "flaky").stdout)
    assert fix["status"] == "blocked"
    assert "hour" in fix["reason"]


def test_healing_section_from_a_kyra_toml_table(kyra: Kyra, fault_server: FaultServer) -> None:
    # `kyra init` wrote kyra.toml; a [healing] table there is read too.
    config = kyra.root / "kyra.toml"
    config.write_text(config.read_text() + "\n[healing]\nmax_fixes_per_hour = 0\n")
    _flaky_flow(kyra, fault_server)
    kyra("run", "flaky")
    [fix] = json.loads(kyra("fixes", "list", "--json", "--workflow", "flaky").stdout)
    assert fix["status"] == "blocked"


def test_fleet_section_bounds_the_wait(kyra: Kyra, fault_server: FaultServer) -> None:
    # An upstream asking for 30 s is refused at once under KYRA_FLEET_MAX_WAIT_SECONDS=2.
    kyra.env["KYRA_FLEET_MAX_WAIT_SECONDS"] = "2"
    kyra.env["KYRA_HEALING_ENABLED"] = "false"
    retry = "    config: {retry: {max_retries: 2}}\n"
    _flow(kyra, "paced", f"{fault_server.url}/status/429?header=Retry-After:30", retry)
    result = kyra("run", "paced")
    assert result.exit_code != 0
    [execution] = json.loads(kyra("executions", "list", "--json").stdout)
    shown = kyra("executions", "show", execution["id"], "--json").stdout
    assert "Kyra waits at most 2.0 s" in shown


def test_notify_section_sets_the_attempts(kyra: Kyra, webhook_receiver: WebhookReceiver) -> None:
    kyra.env.update(
        {"KYRA_NOTIFY_MAX_ATTEMPTS": "2", "KYRA_NOTIFY_BACKOFF_INITIAL_SECONDS": "0.01"}
    )
    added = kyra(
        "notify", "add-channel", "slack", "--name", "ops", "--url", f"{webhook_receiver.url}/s"
    )
    assert added.exit_code == 0, added.output
    webhook_receiver.default_reply = CannedReply(500, "down")
    assert kyra("notify", "test", "ops").exit_code == 1
    assert len(webhook_receiver.requests) == 2  # the default is 3


def test_runtime_section_reaches_serve(kyra: Kyra) -> None:
    # Two processes cannot share an in-memory database: refused before anything starts.
    kyra.env.update({"KYRA_RUNTIME_PROCESSES": "2", "KYRA_DATABASE_URL": "sqlite:///:memory:"})
    result = kyra("serve", "--no-api")
    assert result.exit_code == 2 and "memory" in result.stderr


def test_llm_section_turns_the_llm_tier_on(kyra: Kyra) -> None:
    answer = {
        "error_class": "service_temporarily_unavailable",
        "confidence": 88,
        "fix_steps": ["schedule_retry_backoff"],
        "explanation": "The frobnicator is restarting.",
    }
    error = json.dumps({"error_type": "FrobnicationFault", "error_message": "state 7"})
    with serve_llm() as fake:
        fake.content = json.dumps(answer)
        kyra.env.update({"KYRA_LLM_MODEL": "local-model", "KYRA_LLM_BASE_URL": f"{fake.base}/v1"})
        kyra.env["KYRA_LLM_API_KEY"] = "sk-test-local-key-000000000000"
        result = kyra("diagnose", "--llm", input=error + "\n")
        assert len(fake.requests) == 1 and fake.requests[0].json["model"] == "local-model"
    assert json.loads(result.stdout.splitlines()[0])["tier"] == "llm"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KYRA_HEALING_MAX_FIXES_PER_HOUR", "many"),
        ("KYRA_RUNTIME_CONCURRENCY", "0"),
        ("KYRA_RUNTIME_CONCURENCY", "4"),  # misspelt: refused, not ignored
        ("KYRA_NOTIFY_TIMEOUT_SECONDS", "-1"),
        ("KYRA_FLEET_MAX_WAIT_SECONDS", "forever"),
        ("KYRA_LLM_PROVIDER", "acme"),
    ],
)
def test_a_bad_value_is_one_line_and_exit_2(kyra: Kyra, name: str, value: str) -> None:
    env = {**kyra.env, name: value}
    if name == "KYRA_LLM_PROVIDER":
        env["KYRA_LLM_MODEL"] = "local-model"
    run = _python("-m", "kyra", "workflows", "list", cwd=kyra.root, env=env)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert f"invalid setting {name} " in lines[0]


def test_environment_wins_over_kyra_toml_in_either_spelling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kyra.toml").write_text(
        "healing_max_fixes_per_day = 7\nhealing_cooldown_seconds = 5\n"
        "[fleet]\nburst = 9\n[runtime]\nqueue = 'from-toml'\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KYRA_HEALING_COOLDOWN_SECONDS", "60")
    monkeypatch.setenv("KYRA_RUNTIME_QUEUE", "from-env")
    current = Settings()
    assert (current.healing.max_fixes_per_day, current.healing.cooldown_seconds) == (7, 60)
    assert (current.fleet.burst, current.runtime.queue) == (9, "from-env")
    assert current.llm is None  # no model named: the tier stays off
