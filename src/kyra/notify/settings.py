"""The notifications' section of the settings tree (`KYRA_NOTIFY_<FIELD>`, read by
`kyra.settings.Settings` and handed down).

Delivery runs inside the healing call, so every wait here is short and bounded: a slow
or dead channel costs healing at most `deadline_seconds` per event, and what did not go
out is left as a failed delivery for `Notifier.retry_failed()`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from kyra.workflows.model import RetryPolicy

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


class NotifySettings(BaseModel):
    """Where links point, and how hard a failing channel is retried."""

    model_config = ConfigDict(extra="ignore")

    enabled: bool = True
    pagerduty_events_url: str = PAGERDUTY_EVENTS_URL
    """Events API v2 endpoint (a channel's `url` overrides it, e.g. the EU region)."""
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """Per request (HTTP) or per SMTP command."""
    max_attempts: int = Field(default=3, ge=1, le=10)
    """Attempts per delivery inside one call (the first plus retries)."""
    backoff_initial_seconds: float = Field(default=0.5, ge=0, le=60)
    backoff_multiplier: float = Field(default=2.0, ge=1, le=10)
    backoff_max_seconds: float = Field(default=5.0, ge=0, le=300)
    deadline_seconds: float = Field(default=20.0, gt=0, le=600)
    """Longest time one event may spend delivering, over all its channels and retries."""
    circuit_seconds: float = Field(default=60.0, ge=0)
    """After a channel failed every attempt, later deliveries to it within this window are
    recorded as failed without trying (retried later by `retry_failed`)."""
    lease_seconds: float = Field(default=300.0, gt=0)
    """A `sending` delivery older than this belongs to a crashed sender and may be retried."""

    @model_validator(mode="after")
    def _backoff_ordered(self) -> NotifySettings:
        if self.backoff_max_seconds < self.backoff_initial_seconds:
            raise ValueError("backoff_max_seconds must not be smaller than backoff_initial_seconds")
        return self

    def retry_policy(self) -> RetryPolicy:
        """The backoff as the engine's own policy type (exponential, with jitter)."""
        from kyra.workflows.model import RetryPolicy  # workflow models: not at settings time

        return RetryPolicy(
            max_retries=self.max_attempts - 1,
            initial_delay=self.backoff_initial_seconds,
            max_delay=self.backoff_max_seconds,
            multiplier=self.backoff_multiplier,
            jitter=True,
        )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)
