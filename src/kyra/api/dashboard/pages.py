"""The Health Center's pages: sign-in, the overview, a workflow's timeline, and the
approve / reject / rollback buttons (HTML forms with a CSRF token bound to the session).

Pages read the same store functions as the API and call the same healer operations;
nothing here is reachable without a session (or a bearer key) of the tenant shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from importlib.resources import files
from typing import Any, cast
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kyra.api.auth import SESSION_COOKIE, SESSION_TTL, Principal, Sessions, verify_api_key
from kyra.api.dashboard.chart import build_chart
from kyra.api.dashboard.i18n import LANG_COOKIE, Texts, pick_lang
from kyra.api.dashboard.incidents import can_roll_back, incidents
from kyra.api.errors import ApiError, error_response
from kyra.api.fixes import decide_approval
from kyra.api.health import snapshot
from kyra.api.rates import tenant_rates
from kyra.api.runs import healer_for
from kyra.app import Kyra
from kyra.errors import InputError, KyraError
from kyra.healing.lifecycle import AuditKind, FixOutcome, FixStatus
from kyra.inputs import load_json
from kyra.predict.risk import active_risks
from kyra.store import api_stats
from kyra.store import healing as heal_store
from kyra.store import incidents as incident_store
from kyra.store import workflows as wf_store
from kyra.store.healing import FixInfo
from kyra.store.tenants import get_tenant_by_id

router = APIRouter(include_in_schema=False)
STATE_ORDER = ("needs_attention", "failed", "fixing", "fixed", "active", "inactive")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_env = Environment(
    loader=FileSystemLoader(str(files("kyra.api.dashboard") / "templates")),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def fmt_money(value: float) -> str:
    return f"${value:,.2f}"


def fmt_pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def fmt_roi(value: float) -> str:
    return f"{value:,.0f}%"


def fmt_num(value: float) -> str:
    return f"{value:g}"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _kyra(request: Request) -> Kyra:
    kyra: Kyra = request.app.state.kyra
    return kyra


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


def _key_principal(request: Request) -> Principal | None:
    """The tenant of a valid `Authorization: Bearer <API key>`, else None. Any other
    Authorization header (Basic from a reverse proxy, say) proves nothing about Kyra."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    info = verify_api_key(_kyra(request), header[7:].strip())
    return Principal(info.tenant_id, info.tenant_name, info.prefix) if info else None


def _who(request: Request) -> Principal | None:
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return _key_principal(request)
    return _sessions(request).check(request.cookies.get(SESSION_COOKIE))


def _texts(request: Request, tenant_lang: str = "en") -> Texts:
    return Texts(
        pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), tenant_lang)
    )


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    t: Texts = context.setdefault("t", _texts(request))
    cookie = request.cookies.get(SESSION_COOKIE)
    context.setdefault("csrf", _sessions(request).csrf(cookie) if cookie else "")
    html = _env.get_template(template).render(request=request, lang=t.lang, **context)
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") in ("en", "es"):
        response.set_cookie(LANG_COOKIE, t.lang, max_age=365 * 86400, samesite="lax")
    return response


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/dashboard") and "//" not in value else "/dashboard"


async def _form(request: Request) -> Mapping[str, str]:
    body = await request.body()
    if len(body) > 64 * 1024:
        raise ApiError(413, "too_large", "form too large")
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


# -- sign in ---------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _render(request, "login.html", next=_safe_next(request.query_params.get("next")))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await _form(request)
    info = verify_api_key(_kyra(request), form.get("key", "").strip())
    if info is None:
        return _render(
            request, "login.html", status=401, failed=True, next=_safe_next(form.get("next"))
        )
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        _sessions(request).issue(info),
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- pages -----------------------------------------------------------------------------------


def outcome_key(fix: FixInfo) -> str:
    """What happened to a fix, in the words of the spec's recent list."""
    if fix.status == FixStatus.ROLLED_BACK:
        return "outcome.rolled_back"
    if fix.status == FixStatus.BLOCKED:
        return "outcome.attention"
    if fix.status == FixStatus.REJECTED:
        return "outcome.rejected"
    if fix.status == FixStatus.PROPOSED:
        return "outcome.proposed"
    if fix.outcome == FixOutcome.PENDING:
        return "outcome.fixing"
    if fix.outcome == FixOutcome.SUCCEEDED:
        return "outcome.approved" if fix.status == FixStatus.APPROVED else "outcome.auto"
    if fix.status == FixStatus.FAILED or fix.outcome == FixOutcome.FAILED:
        return "outcome.failed"
    return "outcome.attention"


def _recent(kyra: Kyra, tenant_id: str, fixes: list[FixInfo]) -> list[dict[str, Any]]:
    """Recent outcomes: every fix plus RED failures that only asked for attention."""
    items = [
        {
            "workflow": f.workflow_name,
            "error_class": f.error_class,
            "key": outcome_key(f),
            "at": f.updated_at,
            "safety": f.safety,
        }
        for f in fixes
    ]
    for rec in heal_store.list_audit(kyra.store, tenant_id, limit=50):
        if rec.kind == AuditKind.NEEDS_ATTENTION and rec.fix_id is None and rec.workflow_name:
            items.append(
                {
                    "workflow": rec.workflow_name,
                    "error_class": rec.details.get("error_class", "unknown"),
                    "key": "outcome.attention",
                    "at": rec.created_at,
                    "safety": rec.details.get("safety", "RED"),
                }
            )
    return sorted(items, key=lambda i: cast(datetime, i["at"]), reverse=True)[:8]


@router.get("/dashboard", response_class=HTMLResponse)
def health_center(request: Request) -> Response:
    who = _who(request)
    if who is None:
        return _login_redirect(request)
    kyra = _kyra(request)
    tenant = get_tenant_by_id(kyra.store, who.tenant_id)
    snap = snapshot(kyra, who.tenant_id)
    workflows = sorted(snap.workflows, key=lambda w: (STATE_ORDER.index(w.state), w.name))
    return _render(
        request,
        "health.html",
        t=_texts(request, tenant.lang),
        tenant=tenant,
        snap=snap,
        workflows=workflows,
        risks=active_risks(kyra.store, who.tenant_id),
        host_incidents=incident_store.list_incidents(kyra.store, who.tenant_id, limit=10),
        rates=tenant_rates(kyra.store, who.tenant_id),
        recent=_recent(kyra, who.tenant_id, snap.recent),
        chart=build_chart(snap.series),
        done=request.query_params.get("done"),
        failed=request.query_params.get("error"),
    )


@router.get("/dashboard/workflows/{name}", response_class=HTMLResponse)
def workflow_page(request: Request, name: str) -> Response:
    who = _who(request)
    if who is None:
        return _login_redirect(request)
    kyra = _kyra(request)
    tenant = get_tenant_by_id(kyra.store, who.tenant_id)
    t = _texts(request, tenant.lang)
    try:
        record = wf_store.get_workflow(kyra.store, who.tenant_id, name)
    except KyraError:
        return _render(request, "missing.html", status=404, t=t, tenant=tenant, name=name)
    return _render(
        request,
        "workflow.html",
        t=t,
        tenant=tenant,
        record=record,
        risks=active_risks(kyra.store, who.tenant_id, workflow_id=record.id),
        incidents=incidents(kyra, record),
        can_roll_back=lambda fix: can_roll_back(fix, record),
        now=kyra.clock.now(),
        done=request.query_params.get("done"),
        failed=request.query_params.get("error"),
    )


@router.get("/dashboard/live")
def live(request: Request) -> JSONResponse:
    """A cheap fingerprint of the tenant's activity; the page reloads its content when it
    changes (polling every few seconds, no open connection per viewer)."""
    who = _who(request)
    if who is None:
        return error_response(401, "unauthorized", "sign in to the dashboard first")
    stamp = api_stats.activity_stamp(_kyra(request).store, who.tenant_id)
    return JSONResponse({"stamp": stamp}, headers={"Cache-Control": "no-store"})


@router.post("/dashboard/fixes/{fix_id}/{action}")
async def decide(request: Request, fix_id: str, action: str) -> Response:
    """The approve / reject / rollback buttons; then back to the page they were on."""
    who = _who(request)
    if who is None:
        return _login_redirect(request)
    form = await _form(request)
    back = _safe_next(form.get("next"))
    # A cross-site form post carries the browser's cookie (and any Basic credentials a
    # proxy asked for), never a Kyra API key: only a verified key skips the form token.
    if _key_principal(request) is None and not _sessions(request).csrf_ok(
        request.cookies.get(SESSION_COOKIE), form.get("csrf")
    ):
        raise ApiError(403, "forbidden", "missing or stale form token; reload the page")
    kyra = _kyra(request)
    try:
        if action == "approve":
            raw = form.get("value", "")
            await request.app.state.runs.call(decide_approval, kyra, who, fix_id, _value(raw), True)
        elif action == "reject":
            healer_for(kyra).reject(fix_id, actor=who.actor, tenant_id=who.tenant_id)
        elif action == "rollback":
            healer_for(kyra).rollback(fix_id, actor=who.actor, tenant_id=who.tenant_id)
        else:
            raise ApiError(404, "not_found", f"unknown action {action!r}")
    except (KyraError, ValueError) as exc:
        return RedirectResponse(f"{back}?error={quote(str(exc)[:200])}", status_code=303)
    done = {
        "approve": FixStatus.APPROVED,
        "reject": FixStatus.REJECTED,
        "rollback": FixStatus.ROLLED_BACK,
    }[action]
    return RedirectResponse(f"{back}?done={done}", status_code=303)


def _value(raw: str) -> Any:
    """The approval form's value: JSON when it parses (numbers, true), else the text."""
    if raw == "":
        return None
    try:
        return load_json(raw)
    except InputError:
        return raw


_env.globals.update(
    fmt_money=fmt_money,
    fmt_pct=fmt_pct,
    fmt_roi=fmt_roi,
    fmt_num=fmt_num,
    fmt_duration=fmt_duration,
    outcome_key=outcome_key,
)
