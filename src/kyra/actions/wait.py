"""`wait`: pause a run for a short while (`duration: 5s`), through the injected sleep.

Longer pauses belong to the scheduler (a cron or interval trigger), not to a worker
thread held asleep, hence the one-hour cap.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, field_validator

from kyra.actions.base import StepContext
from kyra.workflows.durations import Seconds

MAX_WAIT_SECONDS = 3600.0


class WaitParams(BaseModel):
    """Parameters of `wait`: `duration` in seconds or as '5s', '2m', '1h'."""

    model_config = ConfigDict(extra="forbid")

    duration: Seconds

    @field_validator("duration")
    @classmethod
    def _capped(cls, value: float) -> float:
        if value > MAX_WAIT_SECONDS:
            raise ValueError(
                f"wait is capped at 1 hour (got {value:g}s); for longer pauses, split the "
                "workflow and use a cron or interval trigger"
            )
        return value


class Wait:
    """Sleeps for `duration` seconds with the context's (injectable) sleep."""

    name: ClassVar[str] = "wait"
    Params: ClassVar[type[BaseModel]] = WaitParams

    def run(self, params: WaitParams, ctx: StepContext) -> dict[str, float]:
        if params.duration > 0:
            ctx.sleep(params.duration)
        return {"waited_seconds": params.duration}


__all__ = ["Wait", "WaitParams"]
