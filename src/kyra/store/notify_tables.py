"""Tables of notifications (migration 0004): each tenant's channels, and one row per
delivery of one stage of one incident to one channel.

The unique key on deliveries is what makes duplicates quiet: a retried healing job, or a
second process handling the same event, cannot insert the same stage twice, so it never
sends it twice either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kyra.store.tables import Base, new_id
from kyra.store.types import JSONType, utcnow


class NotifyChannelRow(Base):
    """A place a tenant is told about healing: email, webhook, Slack, Teams, PagerDuty.

    `config` never holds a secret in clear: passwords, signing keys, routing keys and
    webhook URLs that are credentials are referenced by the name of a tenant secret.
    """

    __tablename__ = "notify_channels"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    events: Mapped[list[str] | None] = mapped_column(JSONType, default=None)
    """Event kinds routed here; NULL means the default set for the channel's kind."""
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotifyDeliveryRow(Base):
    """One stage (`event_kind` + `event_key`) of one incident sent to one channel.

    status: sending (claimed; `lease_until` bounds a crashed sender) → sent | failed |
    skipped. A failed row is re-delivered by `Notifier.retry_failed()`.
    """

    __tablename__ = "notify_deliveries"
    __table_args__ = (
        UniqueConstraint("channel_id", "incident", "event_kind", "event_key"),
        Index("ix_notify_deliveries_status", "status", "updated_at"),
        Index("ix_notify_deliveries_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(ForeignKey("notify_channels.id", ondelete="CASCADE"))
    incident: Mapped[str] = mapped_column(String(64))
    """The failed execution that opened the incident: one thread of messages per incident."""
    event_kind: Mapped[str] = mapped_column(String(30))
    event_key: Mapped[str] = mapped_column(String(80))
    """Which occurrence of the kind (execution and fix): a new round of the same incident
    is a new message, a repeat of the same event is not."""
    workflow_id: Mapped[str | None] = mapped_column(String(36), default=None)
    event: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The HealEvent as JSON, so a failed delivery can be rendered and sent again later."""
    status: Mapped[str] = mapped_column(String(10), default="sending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str | None] = mapped_column(String(250), default=None)
    """Email: this message's Message-ID (the thread's first one is the incident's root)."""
    subject: Mapped[str | None] = mapped_column(Text, default=None)
    """Email: the thread's subject, fixed by its first message."""
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
