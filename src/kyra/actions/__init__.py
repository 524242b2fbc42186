"""Step connectors: HTTP, SMTP email, Slack/Teams webhooks, transform, wait."""
