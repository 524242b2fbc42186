"""Real loopback servers for tests: SMTP (aiosmtpd), a webhook receiver, the fault server."""
