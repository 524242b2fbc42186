"""Notifications: tell people (and their tools) what healing is doing.

Channels: email (SMTP, text + HTML, one thread per incident), Slack and Microsoft Teams
incoming webhooks, a generic webhook signed the Standard Webhooks way, and PagerDuty Events API
v2. `Notifier` is a `HealListener`; the app holds one (`Kyra.notifier`) and its healer
(`Kyra.healer`) is built with it.
"""

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
