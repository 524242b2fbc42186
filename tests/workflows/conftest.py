"""Small test actions, so loader tests do not depend on the real connectors."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict, Field

from kyra.actions.base import ActionRegistry, StepContext


class HttpParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    method: str = "GET"
    json_: Any = Field(default=None, alias="json")
    body: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)


class HttpRequest:
    name: ClassVar[str] = "http_request"
    Params: ClassVar[type[BaseModel]] = HttpParams

    def run(self, params: HttpParams, ctx: StepContext) -> dict[str, Any]:
        return {}


class LogParams(BaseModel):
    """Allows extra keys: the loader must not call them unknown."""

    message: str


class Log:
    name: ClassVar[str] = "log"
    Params: ClassVar[type[BaseModel]] = LogParams

    def run(self, params: LogParams, ctx: StepContext) -> None:
        return None


@pytest.fixture
def registry() -> ActionRegistry:
    return ActionRegistry([HttpRequest(), Log()])
