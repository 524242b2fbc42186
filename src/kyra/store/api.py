"""Repositories of the REST API: API keys, tenant settings, webhooks, install secrets,
and deleting a workflow (with everything that hangs off it).

Keys and webhook tokens are stored as SHA-256 digests only; they are high-entropy random
strings, so a fast hash is enough and a lookup costs one indexed query.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError

from kyra.errors import ConflictError, NotFoundError
from kyra.store.api_tables import (
    ApiKeyRow,
    InstallSecretRow,
    TenantSettingsRow,
    WebhookReceiptRow,
    WebhookRow,
)
from kyra.store.db import Store
from kyra.store.paging import Key, after
from kyra.store.tables import ExecutionRow, Tenant, WorkflowRow
from kyra.store.tenants import TenantInfo
from kyra.store.types import utcnow


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    tenant_id: str
    tenant_name: str
    prefix: str
    key_hash: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


def _key(row: ApiKeyRow, tenant_name: str) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.id,
        tenant_id=row.tenant_id,
        tenant_name=tenant_name,
        prefix=row.prefix,
        key_hash=row.key_hash,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked=row.revoked,
    )


def add_api_key(store: Store, tenant_id: str, prefix: str, key_hash: str, name: str) -> ApiKeyInfo:
    try:
        with store.session.begin() as session:
            tenant = session.get(Tenant, tenant_id)
            if tenant is None:
                raise NotFoundError(f"no tenant with id {tenant_id}")
            row = ApiKeyRow(tenant_id=tenant_id, prefix=prefix, key_hash=key_hash, name=name)
            session.add(row)
            session.flush()
            return _key(row, tenant.name)
    except IntegrityError as exc:  # a prefix collision: 1 in 4 billion, the caller retries
        raise ConflictError("API key prefix already in use") from exc


_KEYS = ApiKeyRow.__table__
_FIND_KEY = (
    select(
        _KEYS.c.id,
        _KEYS.c.tenant_id,
        Tenant.__table__.c.name,
        _KEYS.c.prefix,
        _KEYS.c.key_hash,
        _KEYS.c.name,
        _KEYS.c.created_at,
        _KEYS.c.last_used_at,
        _KEYS.c.revoked,
    )
    .join(Tenant.__table__, Tenant.__table__.c.id == _KEYS.c.tenant_id)
    .where(_KEYS.c.prefix == bindparam("b_prefix"))
)


def find_api_key(store: Store, prefix: str) -> ApiKeyInfo | None:
    """Every API request asks this: one prepared Core statement on a read transaction
    (no ORM session, no write lock), so revoking a key takes effect at once in every
    process without a cache to invalidate."""
    with store.reader.connect() as conn:
        found = conn.execute(_FIND_KEY, {"b_prefix": prefix}).first()
    return ApiKeyInfo(*found) if found else None


def touch_api_key(store: Store, key_id: str, at: datetime) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(last_used_at=at))


def list_api_keys(
    store: Store, tenant_id: str, *, limit: int | None = None, after_key: Key | None = None
) -> list[ApiKeyInfo]:
    """Oldest first; `after_key` (`(created_at, prefix)`) starts after that key."""
    query = after(
        select(ApiKeyRow, Tenant.name)
        .join(Tenant, Tenant.id == ApiKeyRow.tenant_id)
        .where(ApiKeyRow.tenant_id == tenant_id),
        [(ApiKeyRow.created_at, False), (ApiKeyRow.prefix, False)],
        after_key,
    )
    with store.session() as session:
        rows = session.execute(query.limit(limit)).all()
    return [_key(row, name) for row, name in rows]


def revoke_api_key(store: Store, tenant_id: str, prefix: str) -> ApiKeyInfo:
    with store.session.begin() as session:
        found = session.execute(
            select(ApiKeyRow, Tenant.name)
            .join(Tenant, Tenant.id == ApiKeyRow.tenant_id)
            .where(ApiKeyRow.tenant_id == tenant_id, ApiKeyRow.prefix == prefix)
        ).first()
        if found is None:
            raise NotFoundError(f"no API key {prefix!r}")
        row, name = found
        row.revoked = True
        return _key(row, name)


@dataclass(frozen=True)
class TenantSettings:
    downtime_value_per_hour: float = 50.0
    """USD an hour of this tenant's workflows being down is worth."""
    manual_repair_hours: float = 4.0
    """How long a person would take to notice and repair a failure by hand."""
    dashboard_base_url: str | None = None


def _settings(row: TenantSettingsRow | None) -> TenantSettings:
    if row is None:
        return TenantSettings()
    return TenantSettings(
        row.downtime_value_per_hour, row.manual_repair_hours, row.dashboard_base_url
    )


def tenant_settings(store: Store, tenant_id: str) -> TenantSettings:
    with store.session() as session:
        return _settings(session.get(TenantSettingsRow, tenant_id))


def update_tenant_settings(
    store: Store,
    tenant_id: str,
    *,
    downtime_value_per_hour: float | None = None,
    manual_repair_hours: float | None = None,
    dashboard_base_url: str | None = None,
    clear_base_url: bool = False,
) -> TenantSettings:
    with store.session.begin() as session:
        row = session.get(TenantSettingsRow, tenant_id)
        if row is None:
            defaults = TenantSettings()
            row = TenantSettingsRow(
                tenant_id=tenant_id,
                downtime_value_per_hour=defaults.downtime_value_per_hour,
                manual_repair_hours=defaults.manual_repair_hours,
            )
            session.add(row)
        if downtime_value_per_hour is not None:
            row.downtime_value_per_hour = downtime_value_per_hour
        if manual_repair_hours is not None:
            row.manual_repair_hours = manual_repair_hours
        if dashboard_base_url is not None or clear_base_url:
            row.dashboard_base_url = dashboard_base_url
        row.updated_at = utcnow()
        session.flush()
        return _settings(row)


def install_secret(store: Store, name: str, size: int = 32) -> bytes:
    """Random key material shared by every process on this database, made once."""
    with store.session() as session:
        row = session.get(InstallSecretRow, name)
        if row is not None:
            return bytes(row.value)
    try:
        with store.session.begin() as session:
            session.add(InstallSecretRow(name=name, value=secrets.token_bytes(size)))
    except IntegrityError:  # another process made it first: use theirs
        pass
    with store.session() as session:
        row = session.get(InstallSecretRow, name)
        if row is None:
            raise NotFoundError(f"install secret {name!r} vanished")
        return bytes(row.value)


@dataclass(frozen=True)
class WebhookInfo:
    workflow_id: str
    tenant_id: str
    hook_id: str
    token_hash: str
    signing_secret: str
    created_at: datetime


def _hook(row: WebhookRow) -> WebhookInfo:
    return WebhookInfo(
        row.workflow_id,
        row.tenant_id,
        row.hook_id,
        row.token_hash,
        row.signing_secret,
        row.created_at,
    )


def set_webhook(
    store: Store, tenant_id: str, workflow_id: str, hook_id: str, token_hash: str, secret: str
) -> WebhookInfo:
    """Create or rotate a workflow's webhook credentials (a new hook id each time, so an
    old URL stops working at once)."""
    with store.session.begin() as session:
        session.execute(delete(WebhookRow).where(WebhookRow.workflow_id == workflow_id))
        row = WebhookRow(
            workflow_id=workflow_id,
            tenant_id=tenant_id,
            hook_id=hook_id,
            token_hash=token_hash,
            signing_secret=secret,
        )
        session.add(row)
        session.flush()
        return _hook(row)


def webhook_by_hook_id(store: Store, hook_id: str) -> WebhookInfo | None:
    with store.session() as session:
        row = session.scalar(select(WebhookRow).where(WebhookRow.hook_id == hook_id))
    return _hook(row) if row else None


def webhook_of(store: Store, workflow_id: str) -> WebhookInfo | None:
    with store.session() as session:
        row = session.get(WebhookRow, workflow_id)
    return _hook(row) if row else None


def delete_webhook(store: Store, workflow_id: str) -> bool:
    with store.engine.begin() as conn:
        result = conn.execute(delete(WebhookRow).where(WebhookRow.workflow_id == workflow_id))
        return bool(result.rowcount)


def delete_workflow(store: Store, tenant_id: str, name: str) -> str:
    """Delete a workflow with its versions, executions, fixes and schedules (foreign keys
    cascade); the audit trail stays. Refused while one of its executions runs."""
    with store.session.begin() as session:
        row = session.scalar(
            select(WorkflowRow)
            .where(WorkflowRow.tenant_id == tenant_id, WorkflowRow.name == name)
            .with_for_update()
        )
        if row is None:
            raise NotFoundError(f"no workflow named {name!r}")
        running = session.scalar(
            select(ExecutionRow.id)
            .where(ExecutionRow.workflow_id == row.id, ExecutionRow.status == "running")
            .limit(1)
        )
        if running is not None:
            raise ConflictError(
                f"workflow {name!r} has a running execution ({running[:8]}); try again later"
            )
        session.delete(row)
        return row.id


def list_tenants(store: Store) -> list[TenantInfo]:
    """Every tenant, by name (for `kyra tenants list`)."""
    with store.session() as session:
        rows = session.scalars(select(Tenant).order_by(Tenant.name)).all()
    return [TenantInfo(id=r.id, name=r.name, tier=r.tier, lang=r.lang) for r in rows]


def accept_webhook_message(
    store: Store, hook_id: str, message_id: str, now: datetime, expires_at: datetime
) -> tuple[bool, str | None]:
    """Record a signed message as accepted: (True, None) the first time; (False, the
    execution it started) when it was accepted before (a retry or a replay). Expired
    receipts are dropped on the way (their signatures can no longer verify)."""
    try:
        with store.session.begin() as session:
            session.execute(delete(WebhookReceiptRow).where(WebhookReceiptRow.expires_at < now))
            session.add(
                WebhookReceiptRow(hook_id=hook_id, message_id=message_id, expires_at=expires_at)
            )
        return True, None
    except IntegrityError:
        pass
    with store.session() as session:
        row = session.get(WebhookReceiptRow, (hook_id, message_id))
    return False, row.execution_id if row is not None else None


def link_webhook_message(store: Store, hook_id: str, message_id: str, execution_id: str) -> None:
    """The execution an accepted message started (what a retry of it is told)."""
    with store.session.begin() as session:
        session.execute(
            update(WebhookReceiptRow)
            .where(WebhookReceiptRow.hook_id == hook_id, WebhookReceiptRow.message_id == message_id)
            .values(execution_id=execution_id)
        )
