"""Notifications: tell people (and their tools) what healing is doing.

Channels: email (SMTP, text + HTML, one thread per incident), Slack and Microsoft Teams
incoming webhooks, a generic webhook signed the Standard Webhooks way, and PagerDuty Events API
v2. `Notifier` is a `HealListener`; the app holds one (`Kyra.notifier`) and its healer
(`Kyra.healer`) is built with it.

Names resolve on first use (module `__getattr__`): reading the settings tree imports
`kyra.notify.settings`, and that must not load the channels (httpx, templates).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyra.lazy import lazy_names

_LAZY: dict[str, str] = {
    "sign": "kyra.notify.channels.webhook",
    "verify_signature": "kyra.notify.channels.webhook",
    "Notification": "kyra.notify.messages",
    "DeliveryResult": "kyra.notify.notifier",
    "Notifier": "kyra.notify.notifier",
    "CHANNEL_KINDS": "kyra.notify.routing",
    "DEFAULT_EVENTS": "kyra.notify.routing",
    "EVENT_KINDS": "kyra.notify.routing",
    "ChannelConfigError": "kyra.notify.routing",
    "parse_config": "kyra.notify.routing",
    "parse_events": "kyra.notify.routing",
    "NotifySettings": "kyra.notify.settings",
}

if TYPE_CHECKING:
    from kyra.notify.channels.webhook import sign, verify_signature
    from kyra.notify.messages import Notification
    from kyra.notify.notifier import DeliveryResult, Notifier
    from kyra.notify.routing import (
        CHANNEL_KINDS,
        DEFAULT_EVENTS,
        EVENT_KINDS,
        ChannelConfigError,
        parse_config,
        parse_events,
    )
    from kyra.notify.settings import NotifySettings

__all__ = [
    "CHANNEL_KINDS",
    "DEFAULT_EVENTS",
    "EVENT_KINDS",
    "ChannelConfigError",
    "DeliveryResult",
    "Notification",
    "Notifier",
    "NotifySettings",
    "parse_config",
    "parse_events",
    "sign",
    "verify_signature",
]


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())
