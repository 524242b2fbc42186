"""Tables of the REST API (migration 0005): API keys, per-tenant API settings, webhook
credentials and the install secret that signs dashboard sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kyra.store.tables import Base, new_id
from kyra.store.types import utcnow


class ApiKeyRow(Base):
    """An API key: only its public prefix and the SHA-256 of the whole key are kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked: Mapped[bool] = mapped_column(default=False)


class TenantSettingsRow(Base):
    """What the Health Center needs to turn records into money (one row per tenant)."""

    __tablename__ = "tenant_settings"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    downtime_value_per_hour: Mapped[float] = mapped_column(Float, default=50.0)
    manual_repair_hours: Mapped[float] = mapped_column(Float, default=4.0)
    dashboard_base_url: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookRow(Base):
    """A workflow's webhook trigger: a public hook id (the URL), a hashed token, and the
    name of the tenant secret that signs request bodies."""

    __tablename__ = "webhooks"

    workflow_id: Mapped[str] = mapped_column(
        ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    hook_id: Mapped[str] = mapped_column(String(40), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    signing_secret: Mapped[str] = mapped_column(String(100))
    """Name of the tenant secret holding the HMAC key (encrypted like every secret)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstallSecretRow(Base):
    """Random per-install key material (e.g. the session-signing key), made on first use."""

    __tablename__ = "install_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookReceiptRow(Base):
    """Signed webhook messages already accepted, per hook: the replay cache, shared by
    every process on the database. A row outlives the signature's tolerance window, so
    a replay is either too old to verify or found here."""

    __tablename__ = "webhook_receipts"

    hook_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    execution_id: Mapped[str | None] = mapped_column(String(36), default=None)
    expires_at: Mapped[datetime] = mapped_column(index=True)
