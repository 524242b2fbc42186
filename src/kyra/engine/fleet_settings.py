"""The fleet's section of the settings tree (`KYRA_FLEET_*`, read by
`kyra.settings.Settings` and handed down to `FleetGuard` and the executor)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FleetSettings(BaseModel):
    """`KYRA_FLEET_*`: pacing, circuit breaking and how long anything may wait."""

    model_config = ConfigDict(extra="ignore")

    enabled: bool = True
    max_wait_seconds: float = Field(default=3600.0, gt=0, le=86400)
    """The longest wait Kyra accepts from an upstream (Retry-After, a quota reset, an open
    circuit, a backoff). Longer: the step fails with the reason instead of waiting."""
    sleep_seconds: float = Field(default=0.2, ge=0, le=60)
    """Waits up to this long are slept by the worker; longer ones park the execution
    (its worker runs other work meanwhile)."""
    durable_seconds: float = Field(default=30.0, ge=0)
    """Parked waits longer than this are written to the database (status `waiting` with
    its `run_at`) instead of kept in the worker process's memory."""
    burst: int = Field(default=5, ge=1)
    """Failures within `window_seconds` that open a scope's circuit ..."""
    failure_ratio: float = Field(default=0.5, gt=0, le=1)
    """... provided they are at least this share of its recent calls."""
    window_seconds: float = Field(default=30.0, gt=0)
    first_probe_seconds: float = Field(default=0.5, gt=0)
    """An open circuit (without Retry-After) lets a probe through after this long, then
    `probe_growth` times longer after each failed probe ..."""
    probe_growth: float = Field(default=1.25, ge=1, le=4)
    cooldown_seconds: float = Field(default=30.0, ge=0)
    """... up to this long."""
    probe_seconds: float = Field(default=30.0, gt=0)
    """How long a probe may take before another one may go."""
    relax_seconds: float = Field(default=10.0, gt=0)
    """A scope paced from 429s that sees none for this long is not paced any more."""
    increase: float = Field(default=1.05, gt=1, le=4)
    """Factor a paced rate grows by every 2 s without a 429 (finds a lifted limit again)."""
    sync_seconds: float = Field(default=1.0, gt=0, le=60)
