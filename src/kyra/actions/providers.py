"""Provider names from URL hosts, so diagnosis can apply provider-specific knowledge.

A step may name its provider explicitly (`StepContext.provider`); otherwise the URL host
decides. Unknown hosts are their own provider name (lower-cased, without port), which
keeps `provider` useful for grouping even when Kyra knows nothing about the service.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

_EXACT_HOSTS: dict[str, str] = {
    "gmail.googleapis.com": "google",
    "www.googleapis.com": "google",
    "oauth2.googleapis.com": "google",
    "sheets.googleapis.com": "google",
    "api.stripe.com": "stripe",
    "hooks.slack.com": "slack",
    "slack.com": "slack",
    "graph.microsoft.com": "microsoft",
    "api.github.com": "github",
    "api.twilio.com": "twilio",
    "api.sendgrid.com": "sendgrid",
    "api.hubapi.com": "hubspot",
    "api.notion.com": "notion",
    "api.airtable.com": "airtable",
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "api.telegram.org": "telegram",
    "discord.com": "discord",
    "discordapp.com": "discord",
    # SMTP relays, so `send_email` failures group with their provider too.
    "smtp.gmail.com": "google",
    "smtp.office365.com": "microsoft",
    "smtp-mail.outlook.com": "microsoft",
    "smtp.sendgrid.net": "sendgrid",
    "smtp.mailgun.org": "mailgun",
    "smtp.postmarkapp.com": "postmark",
}

# Suffix rules, checked in order after the exact table: (suffix, provider).
_SUFFIX_HOSTS: tuple[tuple[str, str], ...] = (
    (".googleapis.com", "google"),
    (".slack.com", "slack"),
    (".webhook.office.com", "microsoft"),
    (".logic.azure.com", "microsoft"),
    (".api.mailchimp.com", "mailchimp"),
    (".myshopify.com", "shopify"),
    (".salesforce.com", "salesforce"),
    (".force.com", "salesforce"),
    (".amazonaws.com", "aws"),
    (".discord.com", "discord"),
)


def provider_for_host(host: str) -> str:
    """The provider for a host name (`api.stripe.com` -> `stripe`), else the host itself."""
    host = host.strip().lower().rstrip(".")
    if host in _EXACT_HOSTS:
        return _EXACT_HOSTS[host]
    for suffix, provider in _SUFFIX_HOSTS:
        if host.endswith(suffix):
            return provider
    return host


@lru_cache(maxsize=4096)
def provider_for_url(url: str) -> str | None:
    """The provider for a URL, or None when the URL has no host."""
    host = urlsplit(url).hostname
    return provider_for_host(host) if host else None


def resolve_provider(explicit: str | None, url: str) -> str | None:
    """The step's explicit provider wins; otherwise it is derived from the URL."""
    return explicit or provider_for_url(url)
