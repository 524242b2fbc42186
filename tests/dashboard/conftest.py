"""Browser tests: real data made by the real healer against the real fault server, the
API served by uvicorn on 127.0.0.1 (ephemeral port), Debian's Chromium via Playwright.

Nothing is downloaded: Playwright drives `/usr/bin/chromium` (`executable_path`). Set
`KYRA_SCREENSHOTS=docs` to write the README's screenshots to `docs/`.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import playwright.sync_api as playwright_api  # dev dependency: missing means a loud failure
import pytest
import uvicorn
from fastapi.testclient import TestClient

from kyra.api import create_api
from kyra.api.auth import create_api_key
from kyra.app import Kyra, create_app
from kyra.demo import FaultServer
from kyra.store import api as api_store
from kyra.store.tenants import ensure_tenant
from tests.api.conftest import bad_token, needs_email, paced
from tests.apps import fresh_settings
from tests.waiting import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Site:
    url: str
    kyra: Kyra
    acme_key: str
    rival_key: str
    shots: Path
    api: TestClient

    def shot(self, page: Any, name: str) -> None:
        page.screenshot(path=str(self.shots / name), full_page=True)


def _dates(server: FaultServer) -> dict[str, Any]:
    """A date in the wrong format: 400 invalid_date_format, healed automatically."""
    return {
        "name": "invoice-dates",
        "steps": [
            {
                "name": "post_invoice",
                "action": "http_request",
                "with": {
                    "url": f"{server.url}/dates?format=%Y-%m-%d&field=due",
                    "method": "POST",
                    "json": {"due": "26/11/2026"},
                },
            }
        ],
    }


def _ok(name: str, server: FaultServer) -> dict[str, Any]:
    return {
        "name": name,
        "steps": [{"name": "send", "action": "http_request", "with": {"url": f"{server.url}/ok"}}],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def site(_fault_server_session: FaultServer) -> Iterator[Site]:
    tmp = Path(tempfile.mkdtemp(prefix="kyra-browser-"))
    kyra = create_app(fresh_settings(tmp))
    acme = ensure_tenant(kyra.store, "acme", tier="enterprise")
    rival = ensure_tenant(kyra.store, "rival", tier="pro")
    _, acme_key = create_api_key(kyra, acme.id, "browser")
    _, rival_key = create_api_key(kyra, rival.id, "browser")
    api_store.update_tenant_settings(kyra.store, acme.id, downtime_value_per_hour=75.0)
    app = create_api(kyra)
    server = _fault_server_session
    api = TestClient(app)
    headers = {"Authorization": f"Bearer {acme_key}"}
    for doc in (
        _ok("slack-alerts", server),
        paced(server),
        _dates(server),
        needs_email(server),
        bad_token(server),
        _ok("weekly-report", server),
    ):
        assert (
            api.post("/api/v1/workflows", json={"definition": doc}, headers=headers).status_code
            == 201
        )
        api.post(f"/api/v1/workflows/{doc['name']}/run?wait=true", headers=headers)
    api.post("/api/v1/workflows/weekly-report/deactivate", headers=headers)
    api.post(
        "/api/v1/workflows",
        json={"definition": _ok("rival-only", server)},
        headers={"Authorization": f"Bearer {rival_key}"},
    )

    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    wait_for(lambda: uv.started, 10, "uvicorn to start", every=0.02)
    shots = ROOT / "docs" if os.environ.get("KYRA_SCREENSHOTS") == "docs" else tmp / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    yield Site(f"http://127.0.0.1:{port}", kyra, acme_key, rival_key, shots, api)
    uv.should_exit = True
    thread.join(timeout=10)
    api.close()
    kyra.close()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def browser_context(site: Site) -> Iterator[Any]:
    profile = tempfile.mkdtemp(prefix="kyra-chromium-")
    with playwright_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1360, "height": 900},
        )
        # Only the app under test: any other host would be a bug (and the box is offline).
        context.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith(site.url) else route.abort()
            ),
        )
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


def sign_in(context: Any, site: Site, key: str) -> Any:
    context.clear_cookies()
    page = context.new_page()
    page.goto(f"{site.url}/dashboard")
    page.fill("#key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/dashboard")
    return page
