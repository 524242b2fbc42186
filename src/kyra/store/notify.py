"""Notification channels and deliveries: the notifier's durable memory.

A delivery is claimed by inserting its row; the unique key (channel, incident, event kind,
event key) turns a second claim of the same stage into `None`, which is how duplicates
stay quiet across retries and processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from kyra.errors import ConflictError, NotFoundError
from kyra.store.db import Store
from kyra.store.notify_tables import NotifyChannelRow, NotifyDeliveryRow


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    tenant_id: str
    name: str
    kind: str
    config: dict[str, Any]
    events: list[str] | None
    enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class Delivery:
    id: int
    tenant_id: str
    channel_id: str
    incident: str
    event_kind: str
    event_key: str
    workflow_id: str | None
    event: dict[str, Any]
    status: str
    attempts: int
    last_error: str
    message_id: str | None
    subject: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None


def _channel(row: NotifyChannelRow) -> ChannelInfo:
    return ChannelInfo(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        kind=row.kind,
        config=dict(row.config),
        events=list(row.events) if row.events is not None else None,
        enabled=row.enabled,
        created_at=row.created_at,
    )


def _delivery(row: NotifyDeliveryRow) -> Delivery:
    return Delivery(
        id=row.id,
        tenant_id=row.tenant_id,
        channel_id=row.channel_id,
        incident=row.incident,
        event_kind=row.event_kind,
        event_key=row.event_key,
        workflow_id=row.workflow_id,
        event=dict(row.event),
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        message_id=row.message_id,
        subject=row.subject,
        created_at=row.created_at,
        updated_at=row.updated_at,
        sent_at=row.sent_at,
    )


# -- channels -------------------------------------------------------------------------------


def add_channel(
    store: Store,
    tenant_id: str,
    *,
    name: str,
    kind: str,
    config: dict[str, Any],
    events: list[str] | None = None,
) -> ChannelInfo:
    try:
        with store.session.begin() as session:
            row = NotifyChannelRow(
                tenant_id=tenant_id, name=name, kind=kind, config=config, events=events
            )
            session.add(row)
            session.flush()
            return _channel(row)
    except IntegrityError as exc:
        raise ConflictError(f"a notification channel named {name!r} already exists") from exc


def list_channels(store: Store, tenant_id: str, *, enabled_only: bool = False) -> list[ChannelInfo]:
    query = select(NotifyChannelRow).where(NotifyChannelRow.tenant_id == tenant_id)
    if enabled_only:
        query = query.where(NotifyChannelRow.enabled.is_(True))
    with store.session() as session:
        return [_channel(r) for r in session.scalars(query.order_by(NotifyChannelRow.name))]


def get_channel(store: Store, tenant_id: str, name: str) -> ChannelInfo:
    with store.session() as session:
        row = session.scalar(
            select(NotifyChannelRow).where(
                NotifyChannelRow.tenant_id == tenant_id, NotifyChannelRow.name == name
            )
        )
        if row is None:
            raise NotFoundError(f"no notification channel named {name!r}")
        return _channel(row)


def get_channel_by_id(store: Store, channel_id: str) -> ChannelInfo:
    with store.session() as session:
        row = session.get(NotifyChannelRow, channel_id)
        if row is None:
            raise NotFoundError(f"no notification channel with id {channel_id}")
        return _channel(row)


def remove_channel(store: Store, tenant_id: str, name: str) -> None:
    """Delete a channel and its delivery history."""
    with store.session.begin() as session:
        result = session.execute(
            delete(NotifyChannelRow).where(
                NotifyChannelRow.tenant_id == tenant_id, NotifyChannelRow.name == name
            )
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFoundError(f"no notification channel named {name!r}")


# -- deliveries -----------------------------------------------------------------------------


def claim_delivery(
    store: Store,
    *,
    tenant_id: str,
    channel_id: str,
    incident: str,
    event_kind: str,
    event_key: str,
    workflow_id: str | None,
    event: dict[str, Any],
    now: datetime,
    lease: timedelta,
) -> Delivery | None:
    """Insert the delivery as `sending`; None when this stage was already claimed."""
    try:
        with store.session.begin() as session:
            row = NotifyDeliveryRow(
                tenant_id=tenant_id,
                channel_id=channel_id,
                incident=incident,
                event_kind=event_kind,
                event_key=event_key[:80],
                workflow_id=workflow_id,
                event=event,
                status="sending",
                lease_until=now + lease,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            return _delivery(row)
    except IntegrityError:
        return None


def reclaim_delivery(
    store: Store, delivery_id: int, *, now: datetime, lease: timedelta
) -> Delivery | None:
    """Compare-and-set a failed (or abandoned `sending`) row back to `sending`, so two
    retriers never send it twice; None when someone else holds or finished it."""
    with store.session.begin() as session:
        result = session.execute(
            update(NotifyDeliveryRow)
            .where(
                NotifyDeliveryRow.id == delivery_id,
                or_(
                    NotifyDeliveryRow.status == "failed",
                    (NotifyDeliveryRow.status == "sending") & (NotifyDeliveryRow.lease_until < now),
                ),
            )
            .values(status="sending", lease_until=now + lease, updated_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = session.get(NotifyDeliveryRow, delivery_id)
        return _delivery(row) if row else None


def finish_delivery(
    store: Store,
    delivery_id: int,
    *,
    status: str,
    attempts: int,
    now: datetime,
    error: str = "",
    message_id: str | None = None,
    subject: str | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "attempts": attempts,
        "last_error": error[:2000],
        "updated_at": now,
        "lease_until": None,
    }
    if status == "sent":
        values["sent_at"] = now
    if message_id is not None:
        values["message_id"] = message_id
    if subject is not None:
        values["subject"] = subject
    with store.engine.begin() as conn:
        conn.execute(
            update(NotifyDeliveryRow).where(NotifyDeliveryRow.id == delivery_id).values(**values)
        )


def thread(store: Store, channel_id: str, incident: str) -> list[Delivery]:
    """Every delivery of one incident on one channel, oldest first."""
    with store.session() as session:
        rows = session.scalars(
            select(NotifyDeliveryRow)
            .where(
                NotifyDeliveryRow.channel_id == channel_id, NotifyDeliveryRow.incident == incident
            )
            .order_by(NotifyDeliveryRow.id)
        )
        return [_delivery(r) for r in rows]


def list_deliveries(
    store: Store,
    tenant_id: str,
    *,
    incident: str | None = None,
    status: str | None = None,
    channel_id: str | None = None,
    limit: int = 200,
) -> list[Delivery]:
    query = select(NotifyDeliveryRow).where(NotifyDeliveryRow.tenant_id == tenant_id)
    if incident is not None:
        query = query.where(NotifyDeliveryRow.incident == incident)
    if status is not None:
        query = query.where(NotifyDeliveryRow.status == status)
    if channel_id is not None:
        query = query.where(NotifyDeliveryRow.channel_id == channel_id)
    with store.session() as session:
        rows = session.scalars(query.order_by(NotifyDeliveryRow.id).limit(limit))
        return [_delivery(r) for r in rows]


def retryable_deliveries(
    store: Store, *, now: datetime, tenant_id: str | None = None, limit: int = 100
) -> list[Delivery]:
    """Failed deliveries, and `sending` ones whose sender's lease ran out (it crashed)."""
    query = select(NotifyDeliveryRow).where(
        or_(
            NotifyDeliveryRow.status == "failed",
            (NotifyDeliveryRow.status == "sending") & (NotifyDeliveryRow.lease_until < now),
        )
    )
    if tenant_id is not None:
        query = query.where(NotifyDeliveryRow.tenant_id == tenant_id)
    with store.session() as session:
        rows = session.scalars(query.order_by(NotifyDeliveryRow.id).limit(limit))
        return [_delivery(r) for r in rows]


__all__ = [
    "ChannelInfo",
    "Delivery",
    "add_channel",
    "claim_delivery",
    "finish_delivery",
    "get_channel",
    "get_channel_by_id",
    "list_channels",
    "list_deliveries",
    "reclaim_delivery",
    "remove_channel",
    "retryable_deliveries",
    "thread",
]
