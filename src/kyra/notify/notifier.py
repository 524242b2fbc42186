"""The `Notifier`: a `HealListener` that tells each tenant's channels about healing.

For every `HealEvent` it picks the tenant's channels that want the event (routing),
claims one delivery row per channel (the unique key collapses duplicates: a retried
healing job or a second process cannot send the same stage twice), renders the message
in the tenant's (or channel's) language and sends it, retrying a failing channel with
exponential backoff inside a bounded time budget. It never raises into healing: what
could not be sent stays a `failed` delivery with its error, and `retry_failed()` (from a
worker's periodic tick, or by hand) sends it later.

    notifier = kyra.notifier                       # the app's one, KYRA_NOTIFY_*
    healer = kyra.healer                           # built with it
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace

from kyra.app import Kyra
from kyra.engine.retry import backoff_delay
from kyra.errors import KyraError, NotFoundError
from kyra.healing.events import HealEvent, HealListener
from kyra.i18n import Lang
from kyra.notify.channels import Channel, ChannelError, Outgoing, Sent, make_channel
from kyra.notify.incident import event_from_json, event_to_json, incident_facts, incident_of
from kyra.notify.messages import Facts, Notification, render
from kyra.notify.routing import ChannelConfigError, routes
from kyra.notify.settings import NotifySettings
from kyra.redaction import Redactor
from kyra.store import api as api_store
from kyra.store import notify as notify_store
from kyra.store.notify import ChannelInfo, Delivery
from kyra.store.tenants import get_tenant_by_id

log = logging.getLogger("kyra.notify")


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one event on one channel."""

    channel: str
    status: str
    """sent | skipped | failed | duplicate"""
    attempts: int = 0
    error: str = ""
    delivery_id: int | None = None


class _EventContext:
    """What every channel's copy of one event shares, loaded once and only if needed."""

    def __init__(self, notifier: Notifier, event: HealEvent, incident: str) -> None:
        self.notifier = notifier
        self.event = event
        self.incident = incident
        self._facts: Facts | None = None
        self._lang: Lang | None = None
        self._secrets: Mapping[str, str] | None = None
        self._redactor: Redactor | None = None

    @property
    def facts(self) -> Facts:
        if self._facts is None:
            self._facts = incident_facts(self.notifier.store, self.event, self.incident)
        return self._facts

    @property
    def lang(self) -> Lang:
        if self._lang is None:
            self._lang = get_tenant_by_id(self.notifier.store, self.event.tenant_id).lang_code
        return self._lang

    @property
    def dashboard_url(self) -> str:
        """Where Kyra is reached from outside: the tenant's own base URL, else
        `KYRA_PUBLIC_URL`; links go to `<base>/dashboard/workflows/<name>`."""
        custom = self.notifier._dashboard_url
        base = custom(self.event.tenant_id) if custom else None
        if base is None:
            base = api_store.tenant_settings(self.notifier.store, self.event.tenant_id)
            base = base.dashboard_base_url
        return base or self.notifier.kyra.settings.public_url

    @property
    def secrets(self) -> Mapping[str, str]:
        if self._secrets is None:
            self._secrets = self.notifier.kyra.secrets_of(self.event.tenant_id)
        return self._secrets

    @property
    def redactor(self) -> Redactor:
        if self._redactor is None:
            self._redactor = Redactor(self.secrets.values())
        return self._redactor


def _redacted(note: Notification, redactor: Redactor) -> Notification:
    """The notification with the tenant's secrets (every derived form) and credential
    shapes masked in each text field. What it is built from was redacted when stored;
    this is the last look before it leaves the process (a webhook, a chat, a mailbox)."""
    changes = {
        f.name: redactor(value)
        for f in fields(note)
        if isinstance(value := getattr(note, f.name), str | dict | list)
        or (isinstance(value, tuple) and all(isinstance(v, dict) for v in value))
    }
    return replace(note, **changes)


class Notifier(HealListener):
    """Routes healing events to channels; see the module docstring.

    Parameters:
        kyra: the app (store, clock, HTTP client, tenant secrets).
        settings: timeouts, retries and links; default the app's (`KYRA_NOTIFY_*`).
        sleep: how to wait between retries; default the app clock's (tests pass a
            ManualClock, so nothing really waits).
        dashboard_url: tenant id -> Kyra's public base URL, for per-tenant dashboards;
            default the tenant's `dashboard_base_url`, else `KYRA_PUBLIC_URL`.
    """

    def __init__(
        self,
        kyra: Kyra,
        settings: NotifySettings | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
        dashboard_url: Callable[[str], str | None] | None = None,
    ) -> None:
        self.kyra = kyra
        self.store = kyra.store
        self.clock = kyra.clock
        self.settings = settings or kyra.settings.notify
        self.sleep = sleep or self.clock.sleep
        self._dashboard_url = dashboard_url
        self._policy = self.settings.retry_policy()
        self._down_until: dict[str, float] = {}
        self._lock = threading.Lock()

    # -- entry points ---------------------------------------------------------------------

    def on_heal_event(self, event: HealEvent) -> None:
        try:
            self.notify(event)
        except Exception:  # a notification problem must never reach healing
            log.exception("notifying %s of %s failed", event.workflow_name, event.kind)

    def notify(self, event: HealEvent) -> list[DeliveryResult]:
        """Deliver one event to every channel routed to it; one result per channel."""
        if not self.settings.enabled:
            return []
        channels = routes(notify_store.list_channels(self.store, event.tenant_id), event.kind)
        if not channels:
            return []
        incident = incident_of(self.store, event)
        context = _EventContext(self, event, incident)
        deadline = self.clock.monotonic() + self.settings.deadline_seconds
        results = []
        for channel in channels:
            delivery = notify_store.claim_delivery(
                self.store,
                tenant_id=event.tenant_id,
                channel_id=channel.id,
                incident=incident,
                event_kind=event.kind,
                event_key=f"{event.execution_id or '-'}:{event.fix_id or '-'}",
                workflow_id=event.workflow_id or None,
                event=event_to_json(event),
                now=self.clock.now(),
                lease=self.settings.lease,
            )
            if delivery is None:
                results.append(DeliveryResult(channel.name, "duplicate"))
                continue
            results.append(self._deliver(channel, delivery, context, deadline))
        return results

    def retry_failed(
        self, *, tenant_id: str | None = None, limit: int = 100
    ) -> list[DeliveryResult]:
        """Send again every failed delivery (and any a crashed sender left `sending`),
        each claimed by compare-and-set so concurrent retriers never double-send."""
        results = []
        for row in notify_store.retryable_deliveries(
            self.store, now=self.clock.now(), tenant_id=tenant_id, limit=limit
        ):
            claimed = notify_store.reclaim_delivery(
                self.store, row.id, now=self.clock.now(), lease=self.settings.lease
            )
            if claimed is None:
                continue
            try:
                channel = notify_store.get_channel_by_id(self.store, claimed.channel_id)
            except NotFoundError:
                continue
            event = event_from_json(claimed.event)
            context = _EventContext(self, event, claimed.incident)
            deadline = self.clock.monotonic() + self.settings.deadline_seconds
            results.append(self._deliver(channel, claimed, context, deadline, circuit=False))
        return results

    def send_test(self, tenant_id: str, channel_name: str) -> DeliveryResult:
        """Send a test message to one channel (its own one-message incident)."""
        channel = notify_store.get_channel(self.store, tenant_id, channel_name)
        event = HealEvent(
            kind="test",
            tenant_id=tenant_id,
            workflow_id="",
            workflow_name="kyra",
            at=self.clock.now(),
            incident=f"test-{uuid.uuid4()}",
        )
        incident = event.incident or ""
        delivery = notify_store.claim_delivery(
            self.store,
            tenant_id=tenant_id,
            channel_id=channel.id,
            incident=incident,
            event_kind="test",
            event_key="-",
            workflow_id=None,
            event=event_to_json(event),
            now=self.clock.now(),
            lease=self.settings.lease,
        )
        if delivery is None:  # a fresh uuid: cannot collide
            return DeliveryResult(channel.name, "duplicate")
        deadline = self.clock.monotonic() + self.settings.deadline_seconds
        context = _EventContext(self, event, incident)
        return self._deliver(channel, delivery, context, deadline, circuit=False)

    # -- one delivery -----------------------------------------------------------------------

    def _deliver(
        self,
        info: ChannelInfo,
        delivery: Delivery,
        context: _EventContext,
        deadline: float,
        *,
        circuit: bool = True,
    ) -> DeliveryResult:
        attempts = delivery.attempts
        try:
            channel = make_channel(info)
            note = render(
                context.event,
                context.facts,
                lang=channel.config.lang or context.lang,
                incident=context.incident,
                dashboard_url=context.dashboard_url,
            )
            secrets = context.secrets
            note = _redacted(note, context.redactor)
        except (ChannelConfigError, KyraError) as exc:
            return self._finish(info, delivery, "failed", attempts, str(exc))
        except Exception as exc:  # a rendering bug fails this delivery, not the others
            log.exception("rendering %s for %s failed", context.event.kind, info.name)
            return self._finish(info, delivery, "failed", attempts, f"{type(exc).__name__}: {exc}")
        if circuit and self._is_down(info.id):
            return self._finish(
                info, delivery, "failed", attempts, "not tried: the channel kept failing just now"
            )
        tries = 0
        while True:
            tries += 1
            outcome = self._attempt(channel, delivery, note, secrets)
            if isinstance(outcome, Sent):
                self._mark_up(info.id)
                return self._finish(
                    info,
                    delivery,
                    "skipped" if outcome.skipped else "sent",
                    attempts + tries,
                    outcome.skipped or "",
                    message_id=outcome.message_id,
                    subject=outcome.subject,
                )
            error = outcome
            if not error.retryable or tries >= self.settings.max_attempts:
                break
            delay = backoff_delay(self._policy, tries)
            if error.retry_after is not None:
                delay = max(delay, min(error.retry_after, self.settings.backoff_max_seconds))
            if self.clock.monotonic() + delay > deadline:
                break
            self.sleep(delay)
        if error.retryable:
            self._mark_down(info.id)
        log.warning("notification to %s (%s) failed: %s", info.name, info.kind, error.message)
        return self._finish(info, delivery, "failed", attempts + tries, error.message)

    def _attempt(
        self,
        channel: Channel,
        delivery: Delivery,
        note: Notification,
        secrets: Mapping[str, str],
    ) -> Sent | ChannelError:
        """One send; returns `Sent` or the `ChannelError` that stopped it."""
        out = Outgoing(
            delivery_id=delivery.id,
            note=note,
            now=self.clock.now(),
            http=self.kyra.http,
            settings=self.settings,
            secrets=secrets,
            earlier=tuple(notify_store.thread(self.store, delivery.channel_id, delivery.incident)),
        )
        try:
            return channel.send(out)
        except ChannelError as exc:
            return exc
        except (ChannelConfigError, KyraError) as exc:
            return ChannelError(str(exc), retryable=False)
        except Exception as exc:  # a bug in one channel must not stop the others
            log.exception("channel %s crashed", channel.kind)
            return ChannelError(f"{type(exc).__name__}: {exc}", retryable=False)

    def _finish(
        self,
        info: ChannelInfo,
        delivery: Delivery,
        status: str,
        attempts: int,
        error: str = "",
        *,
        message_id: str | None = None,
        subject: str | None = None,
    ) -> DeliveryResult:
        notify_store.finish_delivery(
            self.store,
            delivery.id,
            status=status,
            attempts=attempts,
            now=self.clock.now(),
            error=error,
            message_id=message_id,
            subject=subject,
        )
        return DeliveryResult(info.name, status, attempts, error, delivery.id)

    def _is_down(self, channel_id: str) -> bool:
        with self._lock:
            return self._down_until.get(channel_id, float("-inf")) > self.clock.monotonic()

    def _mark_down(self, channel_id: str) -> None:
        with self._lock:
            self._down_until[channel_id] = self.clock.monotonic() + self.settings.circuit_seconds

    def _mark_up(self, channel_id: str) -> None:
        with self._lock:
            self._down_until.pop(channel_id, None)
