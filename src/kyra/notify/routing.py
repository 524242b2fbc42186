"""Per-tenant channel configuration and routing: which healing events go to which channel.

A channel's config is validated once, when it is added (`parse_config`); a typo in a key
is an error there, not a silent no-op at 3 a.m. Secrets are referenced by the name of a
tenant secret (`kyra secrets set NAME`), never stored in the channel row.

Default routing, when a channel lists no events:

    email, slack, teams   the stages of the spec's user flow: failure detected, diagnosis,
                          fixed (verified), needs attention, plus proposals, failed fixes
                          and rollbacks
    webhook               every event (machines filter for themselves)
    pagerduty             needs_attention (trigger); verified and recovered (resolve)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kyra.actions.email import SendEmailParams
from kyra.actions.http import check_http_url
from kyra.i18n import Lang
from kyra.store.notify import ChannelInfo

ChannelKind = Literal["email", "webhook", "slack", "teams", "pagerduty"]
CHANNEL_KINDS: tuple[ChannelKind, ...] = ("email", "webhook", "slack", "teams", "pagerduty")

EVENT_KINDS: tuple[str, ...] = (
    "failure_detected",
    "diagnosed",
    "fix_applied",
    "rerun_scheduled",
    "verified",
    "fix_failed",
    "proposed",
    "approved",
    "rejected",
    "blocked",
    "needs_attention",
    "rolled_back",
    "recovered",
    "at_risk",
    "host_incident",
    "host_recovered",
)
"""Every kind of `HealEvent` the healer emits, `at_risk` (`kyra.predict.alerts`: a
workflow will likely fail soon, e.g. a credential expires) and the incidents across
workflows (`kyra.incidents`: one host failing several workflows, then recovering)."""

USER_FLOW: tuple[str, ...] = (
    "failure_detected",
    "diagnosed",
    "verified",
    "fix_failed",
    "proposed",
    "needs_attention",
    "rolled_back",
    "recovered",
    "at_risk",
    "host_incident",
    "host_recovered",
)

DEFAULT_EVENTS: dict[str, tuple[str, ...]] = {
    "email": USER_FLOW,
    "slack": USER_FLOW,
    "teams": USER_FLOW,
    "webhook": EVENT_KINDS,
    "pagerduty": ("needs_attention", "verified", "recovered"),
}


class ChannelConfigError(ValueError):
    """A channel's configuration is wrong (bad key, missing secret): retrying won't help."""


class BaseChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    lang: Lang | None = None
    """Overrides the tenant's language for this channel."""


def _secret_name(value: str | None) -> str | None:
    if value is not None and not value.replace("_", "a").isalnum():
        raise ValueError(f"{value!r} is not a secret name (letters, digits and '_')")
    return value


class _UrlConfig(BaseChannelConfig):
    url: str | None = None
    url_secret: str | None = None
    """Name of a secret holding the URL: Slack and Teams webhook URLs are credentials."""

    @field_validator("url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value)

    @field_validator("url_secret")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return _secret_name(value)

    @model_validator(mode="after")
    def _one_url(self) -> _UrlConfig:
        if (self.url is None) == (self.url_secret is None):
            raise ValueError("give exactly one of 'url' or 'url_secret'")
        return self

    def resolve_url(self, secrets: Mapping[str, str]) -> str:
        if self.url is not None:
            return self.url
        return check_http_url(resolve_secret(self.url_secret, secrets))


class EmailConfig(BaseChannelConfig):
    """SMTP delivery; the password is a tenant secret named by `password_secret`."""

    to: list[str] = Field(min_length=1)
    from_: str = Field(alias="from", min_length=3)
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_secret: str | None = None

    @field_validator("password_secret")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return _secret_name(value)

    @model_validator(mode="after")
    def _addresses(self) -> EmailConfig:
        if (self.username is None) != (self.password_secret is None):
            raise ValueError("give both 'username' and 'password_secret', or neither")
        # The action's own validation: the same address rules as a `send_email` step.
        SendEmailParams.model_validate(
            {"host": self.host, "from": self.from_, "to": self.to, "security": self.security}
        )
        return self


class WebhookConfig(_UrlConfig):
    """A generic JSON webhook, signed with HMAC-SHA256 (see `notify.webhook`)."""

    signing_secret: str
    """Name of the secret holding the signing key shared with the receiver."""

    @field_validator("signing_secret")
    @classmethod
    def _signing_name(cls, value: str) -> str:
        return _secret_name(value) or value


class SlackConfig(_UrlConfig):
    """A Slack incoming webhook."""


class TeamsConfig(_UrlConfig):
    """A Microsoft Teams incoming webhook (connector or Workflows)."""


class PagerDutyConfig(BaseChannelConfig):
    """PagerDuty Events API v2; the integration's routing key is a tenant secret."""

    routing_key_secret: str
    url: str | None = None
    """Events endpoint; default `NotifySettings.pagerduty_events_url`."""
    severity: Literal["critical", "error", "warning", "info"] = "error"

    @field_validator("routing_key_secret")
    @classmethod
    def _name(cls, value: str) -> str:
        return _secret_name(value) or value

    @field_validator("url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value)


ChannelConfig = EmailConfig | WebhookConfig | SlackConfig | TeamsConfig | PagerDutyConfig

CONFIG_TYPES: dict[str, type[BaseChannelConfig]] = {
    "email": EmailConfig,
    "webhook": WebhookConfig,
    "slack": SlackConfig,
    "teams": TeamsConfig,
    "pagerduty": PagerDutyConfig,
}


def parse_config(kind: str, config: Mapping[str, Any]) -> BaseChannelConfig:
    """Validate a channel config; raises ChannelConfigError with every problem named."""
    model = CONFIG_TYPES.get(kind)
    if model is None:
        raise ChannelConfigError(
            f"unknown channel kind {kind!r}; use one of {', '.join(CHANNEL_KINDS)}"
        )
    try:
        return model.model_validate(dict(config))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or kind}: {err['msg']}" for err in exc.errors()
        )
        raise ChannelConfigError(f"invalid {kind} channel: {problems}") from None


def resolve_secret(name: str | None, secrets: Mapping[str, str]) -> str:
    if name is None:
        raise ChannelConfigError("no secret name given")
    value = secrets.get(name)
    if not value:
        raise ChannelConfigError(f"the secret {name!r} is not set (kyra secrets set {name})")
    return value


def parse_events(names: Iterable[str] | None) -> list[str] | None:
    """Validate event kinds given by a person (`all` means every kind); None keeps the
    channel's default routing."""
    if names is None:
        return None
    wanted = [n.strip() for n in names if n.strip()]
    if not wanted:
        return None
    if wanted == ["all"]:
        return list(EVENT_KINDS)
    for name in wanted:
        if name not in EVENT_KINDS:
            close = difflib.get_close_matches(name, EVENT_KINDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ChannelConfigError(
                f"unknown event {name!r}{hint}; use any of {', '.join(EVENT_KINDS)} or 'all'"
            )
    return list(dict.fromkeys(wanted))


def events_for(channel: ChannelInfo) -> frozenset[str]:
    if channel.events is not None:
        return frozenset(channel.events)
    return frozenset(DEFAULT_EVENTS.get(channel.kind, ()))


def routes(channels: Iterable[ChannelInfo], kind: str) -> list[ChannelInfo]:
    """The enabled channels that want events of `kind`."""
    return [c for c in channels if c.enabled and kind in events_for(c)]
