"""`fits`: whether an applied fix still fits a replaced definition (values, no store)."""

from __future__ import annotations

from typing import Any

from kyra.healing.fit import fits
from kyra.workflows.model import Workflow

TIMEOUT_FIX = {
    "ops": [
        {"op": "set_timeout", "step": "slow", "seconds": 0.5},
        {"op": "set_retry", "step": "slow", "max_retries": 2, "initial_delay": 1, "max_delay": 4},
    ]
}


def _flow(step: str = "slow", **config: Any) -> Workflow:
    return Workflow.model_validate(
        {
            "name": "report",
            "config": {"timeout": 0.25, **config},
            "steps": [{"name": step, "action": "http_request", "with": {"url": "http://x"}}],
        }
    )


def test_a_raise_still_above_the_users_value_fits() -> None:
    verdict, patch = fits(TIMEOUT_FIX, _flow())
    assert verdict.fits and patch is not None and len(patch.ops) == 2


def test_the_users_own_higher_timeout_wins() -> None:
    verdict, patch = fits(TIMEOUT_FIX, _flow(timeout=5))
    assert (verdict.fits, verdict.key, patch) == (False, "superseded", None)
    assert verdict.reason("es") == (
        "la nueva definición ya fija timeout en 5 (la corrección ponía 0.5)"
    )


def test_a_renamed_step_retires_the_fix() -> None:
    verdict, _ = fits(TIMEOUT_FIX, _flow(step="slower"))
    assert (verdict.key, verdict.values) == ("step_gone", {"step": "slow"})


def test_a_patch_outside_the_hard_bounds_is_retired() -> None:
    widened = {"ops": [{"op": "set_timeout", "step": "slow", "seconds": 500}]}
    verdict, _ = fits(widened, _flow())
    assert verdict.key == "out_of_bounds" and "120" in verdict.reason()


def test_a_default_the_user_now_provides_is_retired() -> None:
    fix = {"ops": [{"op": "set_field_default", "step": "slow", "field": "url", "value": "x"}]}
    verdict, _ = fits(fix, _flow())
    assert (verdict.key, verdict.reason()) == ("provided", "the new definition sets 'url' itself")
