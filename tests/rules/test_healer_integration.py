"""End to end: a tenant's custom rules steer the real healing loop (fault server, SQLite,
the real healer). Needs the healer integration of `rules_for_tenant` in `Healer._heal`."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from kyra.demo import FaultServer
from kyra.healing.rules_loader import load_rules_text
from kyra.store import rules as rules_store
from tests.healing_loop.conftest import FAST, Loop, http, make_app


def _loop(tmp_path: Path, tier: str, rules: str) -> Iterator[Loop]:
    app = make_app(tmp_path, tier=tier)
    text = textwrap.dedent(rules)
    rules_store.save_rules(
        app.store,
        app.tenant.id,
        text=text,
        document=load_rules_text(text, "rules.yaml").to_json(),
        author="ana",
    )
    yield Loop(app, FAST)
    app.close()


GENTLE = """\
rules:
  - name: acme-gentle
    match: {provider: acme, status: 429}
    remedy: {class: rate_limit_exceeded, max_request_delay: 0.5, max_retries: 2}
  - name: acme-outage-ask
    match: {provider: acme, status: 5xx}
    remedy: {class: service_temporarily_unavailable}
    safety: propose
"""


@pytest.fixture
def enterprise(tmp_path: Path) -> Iterator[Loop]:
    yield from _loop(tmp_path, "enterprise", GENTLE)


@pytest.fixture
def pro(tmp_path: Path) -> Iterator[Loop]:
    yield from _loop(tmp_path, "pro", GENTLE)


def _paced(loop: Loop, url: str) -> None:
    steps = [{**http(name, url), "provider": "acme"} for name in ("a", "b", "c")]
    loop.apply({"name": "newsletter", "steps": steps})


def test_a_custom_rule_tightens_the_automatic_fix(
    enterprise: Loop, fault_server: FaultServer
) -> None:
    _paced(enterprise, f"{fault_server.url}/pace/rules-e2e?min_interval=0.3")
    drive = enterprise.run("newsletter")
    assert [r.status for r in drive.results] == ["failed", "succeeded"]
    config = enterprise.workflow("newsletter").workflow.config
    # Kyra alone writes request_delay 1 s and 3 retries; the rule caps them at 0.5 s and 2.
    assert config.request_delay == 0.5 and config.retry.max_retries == 2
    [fix] = enterprise.fixes("newsletter")
    assert (fix.error_class, fix.safety, fix.status, fix.outcome) == (
        "rate_limit_exceeded",
        "GREEN",
        "applied",
        "succeeded",
    )
    assert "rule_applied" in enterprise.audit_kinds("newsletter")


def test_a_custom_rule_makes_kyra_ask_before_fixing(
    enterprise: Loop, fault_server: FaultServer
) -> None:
    url = f"{fault_server.url}/window/rules-e2e?seconds=0.2&status=503"
    enterprise.apply({"name": "sync", "steps": [{**http("call", url), "provider": "acme"}]})
    enterprise.run("sync")
    record = enterprise.workflow("sync")
    assert record.state == "needs_attention" and record.config_version == 1
    [fix] = enterprise.fixes("sync")
    assert (fix.error_class, fix.safety, fix.status) == (
        "service_temporarily_unavailable",
        "YELLOW",
        "proposed",
    )


def test_rules_are_ignored_below_the_enterprise_tier(pro: Loop, fault_server: FaultServer) -> None:
    _paced(pro, f"{fault_server.url}/pace/rules-e2e-pro?min_interval=0.3")
    pro.run("newsletter")
    config = pro.workflow("newsletter").workflow.config
    assert config.request_delay == 1.0 and config.retry.max_retries == 3
    assert "rule_applied" not in pro.audit_kinds("newsletter")
