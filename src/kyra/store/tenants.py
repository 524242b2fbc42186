"""Tenants: every workflow, execution and secret belongs to one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kyra.errors import NotFoundError
from kyra.i18n import Lang, normalise_lang
from kyra.store.db import Store
from kyra.store.tables import Tenant

Tier = Literal["free", "pro", "enterprise"]
TIERS: tuple[Tier, ...] = ("free", "pro", "enterprise")


@dataclass(frozen=True)
class TenantInfo:
    id: str
    name: str
    tier: str
    lang: str

    @property
    def lang_code(self) -> Lang:
        return normalise_lang(self.lang)


def _info(row: Tenant) -> TenantInfo:
    return TenantInfo(id=row.id, name=row.name, tier=row.tier, lang=row.lang)


def get_tenant(store: Store, name: str) -> TenantInfo:
    with store.session() as session:
        row = session.scalar(select(Tenant).where(Tenant.name == name))
        if row is None:
            raise NotFoundError(f"no tenant named {name!r}")
        return _info(row)


def ensure_tenant(
    store: Store, name: str, tier: str = "enterprise", lang: str = "en"
) -> TenantInfo:
    """The named tenant, created on first use (the CLI's default tenant)."""
    try:
        return get_tenant(store, name)
    except NotFoundError:
        pass
    try:
        with store.session.begin() as session:
            row = Tenant(name=name, tier=tier, lang=lang)
            session.add(row)
            session.flush()
            return _info(row)
    except IntegrityError:  # created concurrently by another process
        return get_tenant(store, name)


def set_tenant(
    store: Store, name: str, *, tier: str | None = None, lang: str | None = None
) -> TenantInfo:
    with store.session.begin() as session:
        row = session.scalar(select(Tenant).where(Tenant.name == name))
        if row is None:
            raise NotFoundError(f"no tenant named {name!r}")
        if tier is not None:
            if tier not in TIERS:
                raise ValueError(f"unknown tier {tier!r}; use one of {', '.join(TIERS)}")
            row.tier = tier
        if lang is not None:
            row.lang = lang
        return _info(row)


def get_tenant_by_id(store: Store, tenant_id: str) -> TenantInfo:
    with store.session() as session:
        row = session.get(Tenant, tenant_id)
        if row is None:
            raise NotFoundError(f"no tenant with id {tenant_id}")
        return _info(row)
