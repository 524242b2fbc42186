"""Rules are stored per tenant, versioned N+1 per change with who and when, and the
healer's `rules_for_tenant` honours the tier and picks up new versions."""

from __future__ import annotations

import textwrap

from sqlalchemy import inspect, update

from kyra.healing.rules import EMPTY_RULES, rules_for_tenant
from kyra.healing.rules_loader import load_rules_text
from kyra.healing.settings import HealingSettings
from kyra.healing.taxonomy import Safety
from kyra.store import Store
from kyra.store import rules as rules_store
from kyra.store.rules_tables import RulesVersionRow
from kyra.store.tenants import ensure_tenant, set_tenant
from tests.rules.conftest import diagnose, error

V1 = textwrap.dedent(
    """\
    rules:
      - name: gentle
        match: {status: 429}
        remedy: {class: rate_limit_exceeded, max_request_delay: 5}
    """
)
V2 = V1.replace("max_request_delay: 5", "max_request_delay: 2")


def save(store: Store, tenant_id: str, text: str, author: str = "ana") -> tuple[int, bool]:
    document = load_rules_text(text, "rules.yaml")
    version, created = rules_store.save_rules(
        store, tenant_id, text=text, document=document.to_json(), author=author, source="r.yaml"
    )
    return version.version, created


def test_versions_are_appended_with_author_and_unchanged_text_is_kept(store: Store) -> None:
    assert "rules_versions" in inspect(store.engine).get_table_names()
    tenant = ensure_tenant(store, "acme")
    assert rules_store.current_rules(store, tenant.id) is None
    assert rules_store.current_version(store, tenant.id) == 0
    assert save(store, tenant.id, V1) == (1, True)
    assert save(store, tenant.id, V1, author="bob") == (1, False)
    assert save(store, tenant.id, V2, author="bob") == (2, True)
    current = rules_store.current_rules(store, tenant.id)
    assert current is not None
    assert (current.version, current.author, current.source, current.rule_count) == (
        2,
        "bob",
        "r.yaml",
        1,
    )
    assert current.text == V2 and current.digest == rules_store.digest_of(V2)
    assert current.document["rules"][0]["remedy"]["max_request_delay"] == 2
    history = rules_store.rules_history(store, tenant.id)
    assert [(v.version, v.author) for v in history] == [(2, "bob"), (1, "ana")]
    assert history[0].created_at >= history[1].created_at


def test_tenants_do_not_see_each_other_s_rules(store: Store) -> None:
    acme, beta = ensure_tenant(store, "acme"), ensure_tenant(store, "beta")
    save(store, acme.id, V1)
    assert rules_store.current_rules(store, beta.id) is None
    assert save(store, beta.id, V2) == (1, True)


def test_rules_apply_only_on_tiers_with_custom_rules(store: Store) -> None:
    settings = HealingSettings()
    tenant = ensure_tenant(store, "acme", tier="enterprise")
    assert rules_for_tenant(store, tenant, settings) is EMPTY_RULES
    save(store, tenant.id, V1)
    ctx = error(status_code=429, error_message="Too Many Requests")
    ruleset = rules_for_tenant(store, tenant, settings)
    decision = ruleset.decide(ctx, diagnose(ctx), settings)
    assert ruleset.version == 1 and decision is not None
    assert decision.bounds.max_request_delay == 5
    save(store, tenant.id, V2)
    decision = rules_for_tenant(store, tenant, settings).decide(ctx, diagnose(ctx), settings)
    assert decision is not None and decision.bounds.max_request_delay == 2
    pro = set_tenant(store, "acme", tier="pro")
    assert rules_for_tenant(store, pro, settings) is EMPTY_RULES


def test_unreadable_stored_rules_make_kyra_ask(store: Store) -> None:
    settings = HealingSettings()
    tenant = ensure_tenant(store, "acme", tier="enterprise")
    save(store, tenant.id, V1)
    broken = {"rules": [{"name": "x", "match": {}, "remedy": {"class": "billing_issue"}}]}
    with store.engine.begin() as conn:
        conn.execute(
            update(RulesVersionRow)
            .where(RulesVersionRow.tenant_id == tenant.id)
            .values(document=broken, digest="0" * 64)
        )
    ruleset = rules_for_tenant(store, tenant, settings)
    assert ruleset.broken
    ctx = error(status_code=429, error_message="Too Many Requests")
    decision = ruleset.decide(ctx, diagnose(ctx), settings)
    assert decision is not None and decision.diagnosis.safety is Safety.YELLOW
    assert decision.safety_override == "propose"
