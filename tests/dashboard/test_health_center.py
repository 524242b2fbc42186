"""The Workflow Health Center in a real Chromium: a self-healed workflow and its
timeline, approving a YELLOW fix, Spanish, live updates, and tenant isolation."""

from __future__ import annotations

import re
from typing import Any

from kyra.predict.risk import CREDENTIAL_EXPIRY, Reason, clear_risk, raise_risk
from kyra.store import workflows as wf_store
from kyra.store.tenants import ensure_tenant
from kyra.store.types import utcnow
from tests.dashboard.conftest import Site, sign_in


def test_login_is_required_and_a_bad_key_is_refused(browser_context: Any, site: Site) -> None:
    page = browser_context.new_page()
    page.goto(f"{site.url}/dashboard")
    assert page.url.startswith(f"{site.url}/login")
    site.shot(page, "login.png")
    page.fill("#key", "kyra_00000000_nope")
    page.click("button[type=submit]")
    assert "That key is not valid." in page.inner_text("main")
    page.close()


def test_health_center_shows_the_month_states_and_a_self_healed_workflow(
    browser_context: Any, site: Site
) -> None:
    page = sign_in(browser_context, site, site.acme_key)
    assert page.inner_text("h2#month-h").startswith("This month")
    assert page.inner_text("[data-testid=card-fixes] .value") == "2"
    assert page.inner_text("[data-testid=card-success] .value") == "100%"
    # Offline diagnosis cost nothing: the ROI is not a 7-digit percentage against a floor
    assert page.inner_text("[data-testid=card-cost] .value") == "$0.00"
    assert page.inner_text("[data-testid=card-roi] .value") == "∞ (no AI cost)"
    assert page.get_attribute("[data-testid=wf-gmail-digest] .pill", "data-state") == "active"
    assert page.get_attribute("[data-testid=wf-billing] .pill", "data-state") == "needs_attention"
    assert page.get_attribute("[data-testid=wf-weekly-report] .pill", "data-state") == "inactive"
    recent = page.inner_text("[data-testid=recent]")
    assert re.search(r"gmail-digest · Rate limit\s+→\s+Fixed automatically \(just now\)", recent)
    assert "billing · Invalid credentials → Needs attention" in recent
    assert page.locator("[data-testid=chart] rect.bar.recoveries").count() == 14
    page.hover("[data-testid=formulas]")
    assert "∞ when the diagnoses cost nothing" in page.inner_text("[data-testid=formulas] .tip")
    page.mouse.move(0, 0)
    site.shot(page, "health-center.png")

    page.click("[data-testid=wf-gmail-digest] a")
    page.wait_for_url(f"{site.url}/dashboard/workflows/gmail-digest")
    incident = page.locator("[data-testid=incident]").first
    stages = incident.locator(".stepper li.done")
    assert [stages.nth(i).get_attribute("data-stage") for i in range(stages.count())] == [
        "failure",
        "diagnosis",
        "fix",
        "recovery",
    ]
    body = incident.inner_text()
    assert "HTTP 429" in body and "Rate limit" in body and "request_delay" in body
    assert incident.locator("button[data-action=rollback]").count() == 1
    site.shot(page, "workflow-timeline.png")
    page.close()


def test_the_same_page_in_spanish(browser_context: Any, site: Site) -> None:
    page = sign_in(browser_context, site, site.acme_key)
    page.click("[data-testid=lang-es]")
    page.wait_for_url(re.compile(r".*lang=es"))
    assert page.inner_text(".brand .sub") == "Centro de Salud de Workflows"
    assert page.inner_text("h2#month-h").startswith("Este mes")
    assert "Reparado automáticamente" in page.inner_text("[data-testid=recent]")
    assert page.inner_text("[data-testid=wf-billing] .pill") == "requiere atención"
    assert page.inner_text("[data-testid=card-roi] .value") == "∞ (sin costo de IA)"
    site.shot(page, "health-center-es.png")
    page.goto(f"{site.url}/dashboard/workflows/gmail-digest")  # the cookie keeps Spanish
    assert "Línea de tiempo" in page.inner_text("main")
    page.goto(f"{site.url}/dashboard?lang=en")
    page.close()


def test_approving_a_yellow_fix_brings_the_workflow_back_to_active(
    browser_context: Any, site: Site
) -> None:
    page = sign_in(browser_context, site, site.acme_key)
    proposal = page.locator("[data-testid=proposal-crm-sync]")
    assert "Missing field" in proposal.inner_text() and "YELLOW" in proposal.inner_text()
    proposal.locator("[data-testid=value-crm-sync]").fill("ana@example.com")
    proposal.locator("button[data-action=approve]").click()
    page.wait_for_url(re.compile(r".*done=approved"))
    assert "Fix approved." in page.inner_text("main")
    assert page.get_attribute("[data-testid=wf-crm-sync] .pill", "data-state") == "active"
    assert "Fixed after approval" in page.inner_text("[data-testid=recent]")
    assert page.locator("[data-testid=proposal-crm-sync]").count() == 0
    page.close()


def test_the_page_updates_live_when_something_happens(browser_context: Any, site: Site) -> None:
    page = sign_in(browser_context, site, site.acme_key)
    assert page.locator("[data-testid=wf-late-arrival]").count() == 0
    doc = {
        "name": "late-arrival",
        "steps": [{"name": "s", "action": "http_request", "with": {"url": "http://127.0.0.1:9/"}}],
    }
    headers = {"Authorization": f"Bearer {site.acme_key}"}
    assert site.api.post("/api/v1/workflows", json={"definition": doc}, headers=headers).is_success
    page.wait_for_selector("[data-testid=wf-late-arrival]", timeout=10_000)
    page.close()


def test_the_at_risk_panel_lists_warnings_in_both_languages(
    browser_context: Any, site: Site
) -> None:
    store = site.kyra.store
    acme = ensure_tenant(store, "acme")
    digest = wf_store.get_workflow(store, acme.id, "gmail-digest")
    page = sign_in(browser_context, site, site.acme_key)
    assert page.locator("[data-testid=at-risk]").count() == 0  # nothing at risk: no panel
    key = {"tenant_id": acme.id, "workflow_id": digest.id, "kind": CREDENTIAL_EXPIRY}
    reason = Reason(
        "credential.tls", {"host": "mail.example", "expires": "2026-12-09 08:00", "days": 5}
    )
    raise_risk(store, **key, subject="tls:mail.example", reason=reason, now=utcnow())
    page.wait_for_selector("[data-testid=at-risk]", timeout=10_000)  # live: no reload
    page.goto(f"{site.url}/dashboard?lang=en")
    panel = page.locator("[data-testid=at-risk]")
    assert panel.locator("h2").inner_text().startswith("At risk")
    item = panel.locator("[data-testid=risk-gmail-digest]")
    assert item.get_attribute("data-kind") == CREDENTIAL_EXPIRY
    assert "Credential expiry" in item.inner_text()
    assert "TLS certificate of mail.example expires on 2026-12-09 08:00 UTC, in 5 day(s)" in (
        item.inner_text()
    )
    site.shot(page, "health-center-at-risk.png")
    page.goto(f"{site.url}/dashboard?lang=es")
    item = page.locator("[data-testid=risk-gmail-digest]")
    assert "certificado TLS de mail.example caduca el 2026-12-09" in item.inner_text()
    assert page.locator("[data-testid=at-risk] h2").inner_text().startswith("En riesgo")
    page.goto(f"{site.url}/dashboard/workflows/gmail-digest?lang=en")  # the workflow's page
    assert "mail.example" in page.inner_text("[data-testid=at-risk]")
    page.goto(f"{site.url}/dashboard/workflows/billing")  # another workflow: none of it
    assert page.locator("[data-testid=at-risk]").count() == 0

    other = sign_in(browser_context, site, site.rival_key)
    assert other.locator("[data-testid=at-risk]").count() == 0
    other.close()

    clear_risk(store, **key, now=utcnow())
    page = sign_in(browser_context, site, site.acme_key)
    assert page.locator("[data-testid=at-risk]").count() == 0
    page.close()


def test_another_tenant_sees_none_of_it(browser_context: Any, site: Site) -> None:
    page = sign_in(browser_context, site, site.rival_key)
    main = page.inner_text("main")
    assert "rival-only" in main
    for name in ("gmail-digest", "crm-sync", "billing", "invoice-dates"):
        assert name not in main
    response = page.goto(f"{site.url}/dashboard/workflows/gmail-digest")
    assert response is not None and response.status == 404
    page.close()


def test_the_api_docs_render_offline(browser_context: Any, site: Site) -> None:
    # Every request to another host is aborted: Swagger UI must come from Kyra itself
    page = browser_context.new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(f"{site.url}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert page.inner_text(".swagger-ui .info .title").startswith("Kyra")
    page.wait_for_selector(".opblock", timeout=15_000)  # the operations, from /openapi.json
    paths = page.eval_on_selector_all(
        ".opblock-summary-path", "els => els.map(e => e.textContent.replace(/\\u200b/g, ''))"
    )
    assert "/api/v1/workflows" in paths
    assert failed == []
    page.close()
