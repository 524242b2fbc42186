"""`transform`: build a value from earlier outputs, optionally reshaped with JMESPath.

`value` arrives already rendered by the template engine, so `transform` with only
`value` is how a workflow names an intermediate result. `jmespath` is applied to `data`
(or to `value` when `data` is absent); a bad expression is the step's own fault, so it
raises `ActionInputError`, which is never retried.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kyra.actions.base import StepContext
from kyra.errors import ActionInputError


class TransformParams(BaseModel):
    """Parameters of `transform`."""

    model_config = ConfigDict(extra="forbid")

    value: Any = None
    jmespath: str | None = Field(default=None, min_length=1, max_length=2000)
    data: Any = None

    @model_validator(mode="after")
    def _coherent(self) -> TransformParams:
        given = self.model_fields_set
        if "value" not in given and "jmespath" not in given:
            raise ValueError("transform needs 'value', or 'jmespath' with 'data'")
        if "data" in given and self.jmespath is None:
            raise ValueError("'data' is only used with 'jmespath'")
        if self.jmespath is not None and "data" in given and "value" in given:
            raise ValueError("with 'jmespath', give either 'data' or 'value', not both")
        return self


class Transform:
    """Outputs `value`, or the JMESPath result over `data`."""

    name: ClassVar[str] = "transform"
    Params: ClassVar[type[BaseModel]] = TransformParams

    def run(self, params: TransformParams, ctx: StepContext) -> Any:
        if params.jmespath is None:
            return params.value
        source = params.data if "data" in params.model_fields_set else params.value
        try:
            return jmespath.search(params.jmespath, source)
        except JMESPathError as exc:
            raise ActionInputError(
                f"invalid JMESPath expression {params.jmespath[:200]!r}: {exc}",
                action=self.name,
                provider=ctx.provider,
                error_type=type(exc).__name__,
                attempt=ctx.attempt,
            ) from exc


__all__ = ["Transform", "TransformParams"]
