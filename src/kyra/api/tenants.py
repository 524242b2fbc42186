"""`/api/v1/tenant` (tier, usage, settings) and `/api/v1/apikeys` (your tenant's keys).

Creating tenants and changing a tier are operator actions (`kyra tenants`), not API calls:
a tenant's key can never lift its own quota.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from kyra.api import schemas as s
from kyra.api.auth import Auth, create_api_key, kyra_of
from kyra.api.paging import PAGE_HEADERS, CursorParam, decode, limit_param, page, paged
from kyra.app import Kyra
from kyra.healing import gate
from kyra.store import api as api_store
from kyra.store import healing as heal_store
from kyra.store.api import ApiKeyInfo
from kyra.store.tenants import get_tenant_by_id, set_tenant

router = APIRouter(prefix="/api/v1", tags=["tenant"])


def tenant_out(kyra: Kyra, tenant_id: str) -> s.TenantOut:
    tenant = get_tenant_by_id(kyra.store, tenant_id)
    settings = api_store.tenant_settings(kyra.store, tenant_id)
    since = gate.month_start(kyra.clock.now())
    used, cost = heal_store.month_usage(kyra.store, tenant_id, since)
    limits = kyra.settings.healing.tier(tenant.tier)
    return s.TenantOut(
        id=tenant.id,
        name=tenant.name,
        tier=tenant.tier,
        lang=tenant.lang,
        downtime_value_per_hour=settings.downtime_value_per_hour,
        manual_repair_hours=settings.manual_repair_hours,
        dashboard_base_url=settings.dashboard_base_url,
        usage=s.UsageOut(
            month_start=since,
            fixes_used=used,
            fixes_included=limits.monthly_fixes,
            cost_used=round(cost, 4),
            cost_limit=limits.max_cost,
            safeties=sorted(limits.safeties),
        ),
    )


@router.get("/tenant", response_model=s.TenantOut)
def get_tenant(request: Request, who: Auth) -> s.TenantOut:
    """Your tenant: tier, this month's usage against its quota, Health Center settings."""
    return tenant_out(kyra_of(request), who.tenant_id)


@router.patch("/tenant", response_model=s.TenantOut)
def update_tenant(request: Request, who: Auth, body: s.TenantSettingsIn) -> s.TenantOut:
    """Change the value of an hour of downtime, the manual repair time the ROI assumes,
    the dashboard's base URL, or the language of messages."""
    kyra = kyra_of(request)
    if body.lang is not None:
        set_tenant(kyra.store, who.tenant_name, lang=body.lang)
    api_store.update_tenant_settings(
        kyra.store,
        who.tenant_id,
        downtime_value_per_hour=body.downtime_value_per_hour,
        manual_repair_hours=body.manual_repair_hours,
        dashboard_base_url=body.dashboard_base_url,
    )
    return tenant_out(kyra, who.tenant_id)


def key_out(info: ApiKeyInfo) -> s.ApiKeyOut:
    return s.ApiKeyOut(
        prefix=info.prefix,
        name=info.name,
        created_at=info.created_at,
        last_used_at=info.last_used_at,
        revoked=info.revoked,
    )


@router.get("/apikeys", response_model=list[s.ApiKeyOut], responses=PAGE_HEADERS, tags=["apikeys"])
def list_api_keys(
    request: Request,
    response: Response,
    who: Auth,
    cursor: CursorParam = None,
    limit: int = limit_param(100),
) -> list[s.ApiKeyOut]:
    """Your tenant's API keys, oldest first (prefixes only; a key is never shown again)."""
    keys = api_store.list_api_keys(
        kyra_of(request).store, who.tenant_id, limit=limit + 1, after_key=decode(cursor, 2)
    )
    shown, next_cursor = page(keys, limit, lambda k: (k.created_at, k.prefix))
    return paged(request, response, [key_out(k) for k in shown], next_cursor)


@router.post(
    "/apikeys",
    status_code=201,
    response_model=s.ApiKeyCreated,
    tags=["apikeys"],
    operation_id="createApiKey",
)
def create_key(request: Request, who: Auth, body: s.ApiKeyIn | None = None) -> s.ApiKeyCreated:
    """A new key for your tenant. The response is the only time the key is shown."""
    info, key = create_api_key(kyra_of(request), who.tenant_id, body.name if body else "")
    return s.ApiKeyCreated(**key_out(info).model_dump(), key=key)


@router.delete("/apikeys/{prefix}", response_model=s.ApiKeyOut, tags=["apikeys"])
def revoke_api_key(request: Request, who: Auth, prefix: str) -> s.ApiKeyOut:
    """Revoke a key of your tenant; requests and dashboard sessions using it stop at once."""
    return key_out(api_store.revoke_api_key(kyra_of(request).store, who.tenant_id, prefix))
