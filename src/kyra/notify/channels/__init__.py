"""Channel implementations, one module each, and the factory from a stored channel."""

from __future__ import annotations

from typing import Any

from kyra.notify.channels.base import Channel, ChannelError, Outgoing, Sent
from kyra.notify.channels.email import EmailChannel
from kyra.notify.channels.pagerduty import PagerDutyChannel
from kyra.notify.channels.slack import SlackChannel
from kyra.notify.channels.teams import TeamsChannel
from kyra.notify.channels.webhook import WebhookChannel
from kyra.notify.routing import parse_config
from kyra.store.notify import ChannelInfo

CHANNEL_TYPES: dict[str, Any] = {
    "email": EmailChannel,
    "webhook": WebhookChannel,
    "slack": SlackChannel,
    "teams": TeamsChannel,
    "pagerduty": PagerDutyChannel,
}


def make_channel(info: ChannelInfo) -> Channel:
    """The channel object for a stored channel (its config validated again: a row edited
    by hand must not send garbage)."""
    config = parse_config(info.kind, info.config)
    channel: Channel = CHANNEL_TYPES[info.kind](config)
    return channel


__all__ = [
    "CHANNEL_TYPES",
    "Channel",
    "ChannelError",
    "EmailChannel",
    "Outgoing",
    "PagerDutyChannel",
    "Sent",
    "SlackChannel",
    "TeamsChannel",
    "WebhookChannel",
    "make_channel",
]
