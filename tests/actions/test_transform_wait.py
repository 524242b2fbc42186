"""`transform` (values and JMESPath) and `wait` (injected sleep, one-hour cap)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from kyra.actions.transform import Transform, TransformParams
from kyra.actions.wait import Wait, WaitParams
from kyra.errors import ActionInputError
from tests.actions.conftest import FakeClock, MakeCtx

ORDERS = {
    "orders": [
        {"id": 1, "total": 30, "paid": True},
        {"id": 2, "total": 12, "paid": False},
        {"id": 3, "total": 55, "paid": True},
    ]
}


def transform(ctx: Any, **p: Any) -> Any:
    return Transform().run(TransformParams.model_validate(p), ctx)


def test_value_is_output_as_is(make_ctx: MakeCtx) -> None:
    assert transform(make_ctx(), value={"a": [1, None]}) == {"a": [1, None]}
    assert transform(make_ctx(), value=None) is None


def test_jmespath_over_data(make_ctx: MakeCtx) -> None:
    expression = "orders[?paid].{id: id, total: total}"
    assert transform(make_ctx(), jmespath=expression, data=ORDERS) == [
        {"id": 1, "total": 30},
        {"id": 3, "total": 55},
    ]
    assert transform(make_ctx(), jmespath="sum(orders[].total)", data=ORDERS) == 97


def test_jmespath_over_value_when_no_data(make_ctx: MakeCtx) -> None:
    assert transform(make_ctx(), jmespath="length(@)", value=[1, 2, 3]) == 3


@pytest.mark.parametrize("expression", ["orders[?", "sum(orders[].id.x", "foo(@)", "sum(orders)"])
def test_bad_jmespath_is_an_input_error(make_ctx: MakeCtx, expression: str) -> None:
    with pytest.raises(ActionInputError) as info:
        transform(make_ctx(attempt=2), jmespath=expression, data=ORDERS)
    assert info.value.retryable is False
    assert info.value.action == "transform"
    assert info.value.attempt == 2
    assert info.value.error_type in {
        "ParseError",
        "IncompleteExpressionError",
        "UnknownFunctionError",
        "JMESPathTypeError",
        "LexerError",
    }


@pytest.mark.parametrize(
    "p", [{}, {"data": ORDERS}, {"jmespath": "a", "data": 1, "value": 2}, {"jmespath": ""}]
)
def test_incoherent_params_are_rejected(p: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TransformParams.model_validate(p)


@pytest.mark.parametrize(
    ("duration", "seconds"), [(2, 2.0), ("1.5s", 1.5), ("2m", 120.0), ("1h", 3600.0), (0, 0.0)]
)
def test_wait_sleeps_through_the_context(
    make_ctx: MakeCtx, fake_clock: FakeClock, duration: Any, seconds: float
) -> None:
    out = Wait().run(
        WaitParams.model_validate({"duration": duration}), make_ctx(sleep=fake_clock.sleep)
    )
    assert out == {"waited_seconds": seconds}
    assert fake_clock.sleeps == ([seconds] if seconds else [])


@pytest.mark.parametrize("duration", ["61m", 3601, "-1s", "soon"])
def test_wait_rejects_bad_or_too_long_durations(duration: Any) -> None:
    with pytest.raises(ValidationError) as info:
        WaitParams.model_validate({"duration": duration})
    if duration in ("61m", 3601):
        assert "capped at 1 hour" in str(info.value)
