"""Learning-mode KPIs after real healing against the fault server: the proposal
rejection rate and the fix success rate per class, in `/metrics` (read from the
counters kept on write) and for the Health Center."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from kyra.api.metrics import KyraCollector
from kyra.api.rates import tenant_rates
from kyra.demo import FaultServer
from tests.healing_loop.conftest import Loop, http


def _scrape(loop: Loop) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    registry.register(KyraCollector(loop.kyra, None))
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _signup(loop: Loop, name: str, fault_server: FaultServer) -> str:
    loop.apply(
        {
            "name": name,
            "steps": [
                http(
                    "call",
                    f"{fault_server.url}/require?fields=email",
                    method="POST",
                    json={"name": "Ana"},
                )
            ],
        }
    )
    loop.run(name)
    [fix] = loop.fixes(name)
    assert fix.status == "proposed"
    return fix.id


def test_rejection_and_success_rates(loop: Loop, fault_server: FaultServer) -> None:
    tenant = loop.kyra.tenant
    assert tenant_rates(loop.kyra.store, tenant.id).rejection_ratio is None
    for name in ("a", "b", "c"):
        loop.healer.reject(_signup(loop, name, fault_server), actor="ana", tenant_id=tenant.id)
    approved = _signup(loop, "d", fault_server)
    loop.healer.approve(approved, actor="ana", value="ana@example.com", tenant_id=tenant.id)
    loop.apply(
        {
            "name": "dates",
            "inputs": {"due": "26/11/2026"},
            "steps": [
                http(
                    "create",
                    f"{fault_server.url}/dates?format=%Y-%m-%d&field=due",
                    method="POST",
                    json={"due": "{{ inputs.due }}"},
                )
            ],
        }
    )
    loop.run("dates")
    [dated] = loop.fixes("dates")
    assert dated.outcome == "succeeded"

    rates = tenant_rates(loop.kyra.store, tenant.id)
    assert (rates.approved, rates.rejected) == (1, 3)
    assert rates.rejection_ratio == 0.75
    by_class = {c.error_class: c for c in rates.classes}
    assert by_class["invalid_date_format"].ratio == 1.0
    scraped = _scrape(loop)
    assert scraped[("kyra_proposal_rejection_ratio", (("tenant", tenant.name),))] == 0.75
    key = (("error_class", "invalid_date_format"), ("tenant", tenant.name))
    assert scraped[("kyra_fix_success_ratio", key)] == 1.0

    loop.healer.rollback(dated.id, actor="ana", tenant_id=tenant.id)
    after = {c.error_class: c for c in tenant_rates(loop.kyra.store, tenant.id).classes}
    assert after["invalid_date_format"].ratio == 0.0
    assert _scrape(loop)[("kyra_fix_success_ratio", key)] == 0.0
