"""Dashboard pages over plain HTTP: sessions, CSRF on the buttons, safe redirects, and
one tenant's session never showing another's data."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kyra.demo import FaultServer
from tests.api.conftest import Tenant, needs_email


def _login(http: TestClient, key: str, next_: str = "/dashboard") -> int:
    r = http.post("/login", data={"key": key, "next": next_}, follow_redirects=False)
    return r.status_code


def test_pages_need_a_session_and_login_never_redirects_off_site(
    http: TestClient, acme: Tenant
) -> None:
    r = http.get("/dashboard/workflows/x", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert _login(http, "kyra_bad_key") == 401
    r = http.post(
        "/login", data={"key": acme.key, "next": "https://evil.example"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = http.get("/dashboard")
    assert page.status_code == 200 and "Workflow Health Center" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_buttons_need_the_csrf_token_of_the_session(
    http: TestClient, acme: Tenant, fault_server: FaultServer
) -> None:
    acme.apply(needs_email(fault_server))
    acme.post("/api/v1/workflows/crm-sync/run", params={"wait": "true"})
    fix_id = acme.get("/api/v1/fixes").json()[0]["id"]
    _login(http, acme.key)
    forged = http.post(f"/dashboard/fixes/{fix_id}/reject", data={"next": "/dashboard"})
    assert forged.status_code == 403
    page = http.get("/dashboard").text
    token = page.split('name="csrf" value="')[1].split('"')[0]
    r = http.post(
        f"/dashboard/fixes/{fix_id}/reject",
        data={"csrf": token, "next": "/dashboard"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/dashboard?done=rejected"
    assert acme.get(f"/api/v1/fixes/{fix_id}").json()["status"] == "rejected"
    again = http.post(
        f"/dashboard/fixes/{fix_id}/reject",
        data={"csrf": token, "next": "/dashboard"},
        follow_redirects=False,
    )
    assert "error=" in again.headers["location"]


def test_any_authorization_header_but_a_valid_api_key_still_needs_the_form_token(
    http: TestClient, acme: Tenant, fault_server: FaultServer
) -> None:
    """A browser behind a proxy with Basic auth sends `Authorization` on a forged cross-site
    post too; only a verified Bearer API key (which no browser attaches) skips the token."""
    acme.apply(needs_email(fault_server))
    acme.post("/api/v1/workflows/crm-sync/run", params={"wait": "true"})
    fix_id = acme.get("/api/v1/fixes").json()[0]["id"]
    _login(http, acme.key)
    for header in ("Basic dXNlcjpwYXNz", "Bearer kyra_00000000_not-a-real-key", "Digest x"):
        forged = http.post(
            f"/dashboard/fixes/{fix_id}/reject",
            data={"next": "/dashboard"},
            headers={"Authorization": header},
            follow_redirects=False,
        )
        assert forged.status_code in (303, 403)
        assert acme.get(f"/api/v1/fixes/{fix_id}").json()["status"] != "rejected", header
    http.cookies.clear()
    r = http.post(
        f"/dashboard/fixes/{fix_id}/reject",
        data={"next": "/dashboard"},
        headers={"Authorization": f"Bearer {acme.key}"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/dashboard?done=rejected"
    assert acme.get(f"/api/v1/fixes/{fix_id}").json()["status"] == "rejected"


def test_a_session_sees_only_its_tenant_and_dies_with_its_key(
    http: TestClient, acme: Tenant, rival: Tenant, fault_server: FaultServer
) -> None:
    acme.apply(needs_email(fault_server))
    _login(http, rival.key)
    assert "crm-sync" not in http.get("/dashboard").text
    assert http.get("/dashboard/workflows/crm-sync").status_code == 404
    prefix = rival.get("/api/v1/apikeys").json()[0]["prefix"]
    rival.delete(f"/api/v1/apikeys/{prefix}")
    assert http.get("/dashboard", follow_redirects=False).status_code == 303
    assert http.get("/dashboard/live").status_code == 401


def test_spanish_by_query_then_cookie(http: TestClient, acme: Tenant) -> None:
    _login(http, acme.key)
    assert "Centro de Salud de Workflows" in http.get("/dashboard?lang=es").text
    assert "Este mes" in http.get("/dashboard").text
    assert "This month" in http.get("/dashboard?lang=en").text
