"""The Health Center's incidents-across-workflows panel in a real Chromium: one host
failing two workflows, named as the common cause (en/es), then resolved; another
tenant sees none of it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kyra.store import incidents as incident_store
from kyra.store import workflows as wf_store
from kyra.store.tenants import ensure_tenant
from kyra.store.types import utcnow
from tests.dashboard.conftest import Site, sign_in

HOST = "api.crm.example:443"


def test_the_panel_names_the_host_and_shows_its_recovery(browser_context: Any, site: Site) -> None:
    store = site.kyra.store
    acme = ensure_tenant(store, "acme")
    now = utcnow()
    incident = None
    for name in ("gmail-digest", "crm-sync"):
        record = wf_store.get_workflow(store, acme.id, name)
        incident, _ = incident_store.fail_on_host(
            store,
            tenant_id=acme.id,
            host=HOST,
            workflow_id=record.id,
            execution_id=f"exec-{name}",
            step_name="call",
            error="HTTP 503 StatusError",
            now=now,
            window=timedelta(minutes=15),
            min_workflows=2,
        )
    assert incident is not None
    page = sign_in(browser_context, site, site.acme_key)
    page.goto(f"{site.url}/dashboard?lang=en")
    panel = page.locator("[data-testid=host-incidents]")
    assert panel.locator("h2").inner_text().startswith("Incidents across workflows")
    item = panel.locator(f"[data-testid=incident-{incident.id[:8]}]")
    assert item.get_attribute("data-status") == "open"
    assert f"Common cause: {HOST} (2 workflows: gmail-digest, crm-sync)" in item.inner_text()
    site.shot(page, "health-center-host-incident.png")
    page.goto(f"{site.url}/dashboard?lang=es")
    assert f"Causa común: {HOST}" in page.inner_text("[data-testid=host-incidents]")

    other = sign_in(browser_context, site, site.rival_key)
    assert other.locator("[data-testid=host-incidents]").count() == 0
    other.close()

    incident_store.recover_hosts(store, acme.id, {HOST}, "exec-ok", utcnow())
    page.close()
    page = sign_in(browser_context, site, site.acme_key)  # the rival's sign-in replaced ours
    page.goto(f"{site.url}/dashboard?lang=en")
    item = page.locator(f"[data-testid=incident-{incident.id[:8]}]")
    assert item.get_attribute("data-status") == "resolved"
    assert "resolved" in item.inner_text()
    page.close()
