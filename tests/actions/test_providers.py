"""Provider names from URL hosts."""

from __future__ import annotations

import pytest

from kyra.actions.providers import provider_for_host, provider_for_url, resolve_provider


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("https://gmail.googleapis.com/gmail/v1/users/me/messages/send", "google"),
        ("https://sheets.googleapis.com/v4/x", "google"),
        ("https://api.stripe.com/v1/charges", "stripe"),
        ("https://hooks.slack.com/services/T/B/X", "slack"),
        ("https://slack.com/api/chat.postMessage", "slack"),
        ("https://graph.microsoft.com/v1.0/me", "microsoft"),
        ("https://acme.webhook.office.com/webhookb2/x", "microsoft"),
        ("https://api.github.com/repos/a/b", "github"),
        ("https://api.twilio.com/2010-04-01", "twilio"),
        ("https://api.sendgrid.com/v3/mail/send", "sendgrid"),
        ("https://us21.api.mailchimp.com/3.0/", "mailchimp"),
        ("https://api.hubapi.com/crm/v3", "hubspot"),
        ("https://shop.myshopify.com/admin/api", "shopify"),
        ("https://api.notion.com/v1/pages", "notion"),
        ("https://api.airtable.com/v0/app", "airtable"),
        ("https://acme.my.salesforce.com/services", "salesforce"),
        ("https://api.openai.com/v1/chat/completions", "openai"),
        ("https://api.anthropic.com/v1/messages", "anthropic"),
        ("https://s3.eu-west-1.amazonaws.com/bucket", "aws"),
        ("https://api.telegram.org/bot1/sendMessage", "telegram"),
        ("https://discord.com/api/webhooks/1/x", "discord"),
        ("https://API.Example.COM:8443/x", "api.example.com"),
        ("http://127.0.0.1:8080/ok", "127.0.0.1"),
        ("https://evil-stripe.com/x", "evil-stripe.com"),
        ("https://notamazonaws.com/x", "notamazonaws.com"),
    ],
)
def test_provider_for_url(url: str, provider: str) -> None:
    assert provider_for_url(url) == provider


@pytest.mark.parametrize(
    ("host", "provider"),
    [
        ("smtp.gmail.com", "google"),
        ("email-smtp.us-east-1.amazonaws.com", "aws"),
        ("SMTP.Office365.com", "microsoft"),
        ("mail.example.org", "mail.example.org"),
    ],
)
def test_smtp_hosts(host: str, provider: str) -> None:
    assert provider_for_host(host) == provider


def test_explicit_provider_wins_and_hostless_urls_have_none() -> None:
    assert resolve_provider("stripe", "http://127.0.0.1/x") == "stripe"
    assert provider_for_url("/relative/path") is None
