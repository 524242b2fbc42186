"""`make_ctx`: a StepContext with a real httpx.Client, for connector tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import httpx
import pytest

from kyra.actions.base import RequestPacer, StepContext
from kyra.workflows.model import WorkflowConfig


class MakeCtx(Protocol):
    def __call__(
        self,
        *,
        action: str = ...,
        provider: str | None = ...,
        attempt: int = ...,
        pacer: RequestPacer | None = ...,
        sleep: Callable[[float], None] | None = ...,
        **config: Any,
    ) -> StepContext: ...


@pytest.fixture
def make_ctx(http_client: httpx.Client) -> MakeCtx:
    """Build a context; keyword `config` fields (timeout=0.2, request_delay=...) apply."""

    def build(
        *,
        action: str = "test",
        provider: str | None = None,
        attempt: int = 1,
        pacer: RequestPacer | None = None,
        sleep: Callable[[float], None] | None = None,
        **config: Any,
    ) -> StepContext:
        ctx = StepContext(
            workflow_name="wf",
            step_name="step",
            action=action,
            config=WorkflowConfig.model_validate({"timeout": 5.0, **config}),
            http=http_client,
            pacer=pacer or RequestPacer(),
            attempt=attempt,
            provider=provider,
        )
        if sleep is not None:
            ctx.sleep = sleep
        return ctx

    return build


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()
