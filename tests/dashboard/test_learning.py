"""Learning mode in the browser: the fix view explains the fix in the page's language
(an English tenant read in Spanish shows no English diagnosis), and the Health Center's
Learning card shows the rejection rate and the success rate per class."""

from __future__ import annotations

import re
from typing import Any

from tests.dashboard.conftest import Site, sign_in


def test_the_fix_view_explains_the_fix_in_the_pages_language(
    browser_context: Any, site: Site
) -> None:
    page = sign_in(browser_context, site, site.acme_key)
    page.goto(f"{site.url}/dashboard/workflows/gmail-digest?lang=es")
    incident = page.locator("[data-testid=incident]").first
    lesson = incident.locator("[data-testid=lesson]").inner_text()
    for label in ("Qué falló", "Por qué este arreglo", "Qué cambió", "La próxima vez"):
        assert label in lesson
    assert "VERDE" in lesson and "Reparte las ejecuciones" in lesson
    diagnosis = incident.locator(".stage.diagnosis p").inner_text()
    assert "limitando la frecuencia" in diagnosis
    assert "rate limiting" not in incident.inner_text()

    page.goto(f"{site.url}/dashboard?lang=es")
    card = page.locator("[data-testid=learning]")
    assert card.locator("h2").inner_text() == "Aprendizaje"
    assert re.search(r"Propuestas rechazadas: \S+", card.inner_text())
    assert card.locator("[data-testid=success-rate_limit_exceeded] .outcome").inner_text() == (
        "100%"
    )
    page.goto(f"{site.url}/dashboard?lang=en")
    assert page.locator("[data-testid=learning] h2").inner_text() == "Learning"
    page.close()
