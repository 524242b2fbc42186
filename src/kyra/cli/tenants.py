"""`kyra tenants create|list|set` and `kyra apikeys create|list|revoke` (operator commands:
the API can never create tenants or change a tier). A new key is printed once."""

from __future__ import annotations

import typer
from rich.table import Table

from kyra.apikeys import create_api_key
from kyra.cli.common import console, err_console, fail, kyra_app, lang, print_json
from kyra.errors import NotFoundError
from kyra.i18n import Catalog, translate
from kyra.store import api as api_store
from kyra.store.tenants import TIERS, ensure_tenant, get_tenant, set_tenant

MESSAGES: Catalog = {
    "tenant.created": {
        "en": "Tenant {name} created ({tier}).",
        "es": "Tenant {name} creado ({tier}).",
    },
    "tenant.exists": {"en": "Tenant {name} already exists.", "es": "El tenant {name} ya existe."},
    "tenant.updated": {"en": "Tenant {name} updated.", "es": "Tenant {name} actualizado."},
    "tenant.none": {"en": "No tenants yet.", "es": "Aún no hay tenants."},
    "tier.bad": {
        "en": "unknown tier {tier!r}; use one of {tiers}",
        "es": "tier desconocido {tier!r}; usa uno de {tiers}",
    },
    "key.created": {
        "en": "API key for {tenant} (shown only now, store it safely):",
        "es": "Clave API para {tenant} (se muestra solo ahora, guárdala en un lugar seguro):",
    },
    "key.use": {
        "en": "Use it as: Authorization: Bearer <key>",
        "es": "Úsala así: Authorization: Bearer <clave>",
    },
    "key.revoked": {"en": "API key {prefix} revoked.", "es": "Clave API {prefix} revocada."},
    "key.none": {"en": "No API keys.", "es": "No hay claves API."},
    "col.name": {"en": "Name", "es": "Nombre"},
    "col.tier": {"en": "Tier", "es": "Tier"},
    "col.lang": {"en": "Language", "es": "Idioma"},
    "col.prefix": {"en": "Prefix", "es": "Prefijo"},
    "col.created": {"en": "Created", "es": "Creada"},
    "col.used": {"en": "Last used", "es": "Último uso"},
    "col.revoked": {"en": "Revoked", "es": "Revocada"},
}

tenants_app = typer.Typer(
    help="Tenants and their tiers. / Tenants y sus tiers.", no_args_is_help=True
)
keys_app = typer.Typer(help="API keys. / Claves API.", no_args_is_help=True)


def t(key: str, **values: object) -> str:
    return translate(MESSAGES, key, lang(), **values)


def register(root: typer.Typer) -> None:
    root.add_typer(tenants_app, name="tenants")
    root.add_typer(keys_app, name="apikeys")


def _check_tier(tier: str | None) -> None:
    if tier is not None and tier not in TIERS:
        fail(t("tier.bad", tier=tier, tiers=", ".join(TIERS)))


@tenants_app.command("create")
def create(
    name: str = typer.Argument(..., help="Tenant name."),
    tier: str = typer.Option("free", "--tier", help="free | pro | enterprise"),
    tenant_lang: str = typer.Option("en", "--lang", help="en | es"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a tenant."""
    _check_tier(tier)
    with kyra_app() as kyra:
        try:
            get_tenant(kyra.store, name)
        except NotFoundError:
            info = ensure_tenant(kyra.store, name, tier=tier, lang=tenant_lang)
            if as_json:
                print_json({"name": info.name, "tier": info.tier, "lang": info.lang})
            else:
                console.print(t("tenant.created", name=info.name, tier=info.tier))
            return
    fail(t("tenant.exists", name=name))


@tenants_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List tenants with their tier."""
    with kyra_app() as kyra:
        found = api_store.list_tenants(kyra.store)
    if as_json:
        print_json([{"name": x.name, "tier": x.tier, "lang": x.lang} for x in found])
        return
    if not found:
        console.print(t("tenant.none"))
        return
    table = Table(t("col.name"), t("col.tier"), t("col.lang"))
    for x in found:
        table.add_row(x.name, x.tier, x.lang)
    console.print(table)


@tenants_app.command("set")
def set_(
    name: str = typer.Argument(..., help="Tenant name."),
    tier: str | None = typer.Option(None, "--tier", help="free | pro | enterprise"),
    tenant_lang: str | None = typer.Option(None, "--lang", help="en | es"),
    downtime_value: float | None = typer.Option(
        None, "--downtime-value", min=0, help="USD an hour of downtime is worth."
    ),
    manual_hours: float | None = typer.Option(
        None, "--manual-repair-hours", min=0, help="Hours a person needs to repair by hand."
    ),
    base_url: str | None = typer.Option(
        None, "--dashboard-url", help="This tenant's public Kyra URL (links in notifications)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Change a tenant's tier, language or Health Center settings."""
    _check_tier(tier)
    with kyra_app() as kyra:
        info = set_tenant(kyra.store, name, tier=tier, lang=tenant_lang)
        api_store.update_tenant_settings(
            kyra.store,
            info.id,
            downtime_value_per_hour=downtime_value,
            manual_repair_hours=manual_hours,
            dashboard_base_url=base_url,
        )
        extra = api_store.tenant_settings(kyra.store, info.id)
    if as_json:
        print_json(
            {
                "name": info.name,
                "tier": info.tier,
                "lang": info.lang,
                "downtime_value_per_hour": extra.downtime_value_per_hour,
                "manual_repair_hours": extra.manual_repair_hours,
                "dashboard_base_url": extra.dashboard_base_url,
            }
        )
        return
    console.print(t("tenant.updated", name=name))


@keys_app.command("create")
def create_key(
    tenant: str = typer.Option(..., "--tenant", help="Tenant name."),
    name: str = typer.Option("", "--name", help="A label, e.g. ci or grafana."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (with the key)."),
) -> None:
    """Create an API key and print it once (alone on standard output)."""
    with kyra_app() as kyra:
        info, key = create_api_key(kyra, get_tenant(kyra.store, tenant).id, name)
    if as_json:
        print_json(
            {
                "tenant": info.tenant_name,
                "prefix": info.prefix,
                "name": info.name,
                "created_at": info.created_at.isoformat(),
                "key": key,
            }
        )
        return
    err_console.print(t("key.created", tenant=info.tenant_name))
    typer.echo(key)
    err_console.print(t("key.use"))


@keys_app.command("list")
def list_keys(
    tenant: str = typer.Option(..., "--tenant", help="Tenant name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List a tenant's keys (prefixes only)."""
    with kyra_app() as kyra:
        keys = api_store.list_api_keys(kyra.store, get_tenant(kyra.store, tenant).id)
    rows = [
        {
            "prefix": k.prefix,
            "name": k.name,
            "created_at": k.created_at.isoformat(),
            "last_used_at": k.last_used_at.isoformat() if k.last_used_at else None,
            "revoked": k.revoked,
        }
        for k in keys
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(t("key.none"))
        return
    table = Table(t("col.prefix"), t("col.name"), t("col.created"), t("col.used"), t("col.revoked"))
    for r in rows:
        table.add_row(
            str(r["prefix"]),
            str(r["name"]),
            str(r["created_at"])[:19],
            str(r["last_used_at"] or "")[:19],
            "✓" if r["revoked"] else "",
        )
    console.print(table)


@keys_app.command("revoke")
def revoke(
    prefix: str = typer.Argument(..., help="The key's prefix (kyra_<prefix>_...)."),
    tenant: str = typer.Option(..., "--tenant", help="Tenant name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Revoke a key: requests and dashboard sessions using it stop at once."""
    with kyra_app() as kyra:
        api_store.revoke_api_key(kyra.store, get_tenant(kyra.store, tenant).id, prefix)
    if as_json:
        print_json({"prefix": prefix, "revoked": True})
        return
    console.print(t("key.revoked", prefix=prefix))
