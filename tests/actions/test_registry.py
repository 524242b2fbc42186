"""The registry lists every built-in, and every built-in's Params rejects unknown keys."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import kyra.actions
import kyra.demo
from kyra.actions import BUILTIN_ACTIONS, default_registry

MINIMAL_PARAMS: dict[str, dict[str, Any]] = {
    "http_request": {"url": "https://api.example.com/x"},
    "send_email": {"host": "smtp.example.com", "from": "a@example.com", "to": "b@example.com"},
    "slack_message": {"webhook_url": "https://hooks.slack.com/services/T/B/X", "text": "hi"},
    "teams_message": {"webhook_url": "https://x.webhook.office.com/h", "text": "hi"},
    "transform": {"value": 1},
    "wait": {"duration": "1s"},
}


def test_default_registry_lists_every_builtin() -> None:
    registry = default_registry()
    assert set(registry.names()) >= {a.name for a in BUILTIN_ACTIONS}
    assert set(MINIMAL_PARAMS) == {a.name for a in BUILTIN_ACTIONS}
    for name in MINIMAL_PARAMS:
        assert registry.get(name).name == name


def test_registries_are_independent() -> None:
    assert default_registry() is not default_registry()
    assert default_registry(load_plugins=False).get("wait") is not default_registry().get("wait")


@pytest.mark.parametrize("action", BUILTIN_ACTIONS, ids=lambda a: a.name)
def test_params_reject_an_unknown_key(action: Any) -> None:
    params_model: type[BaseModel] = action.Params
    params_model.model_validate(MINIMAL_PARAMS[action.name])
    with pytest.raises(ValidationError) as info:
        params_model.model_validate({**MINIMAL_PARAMS[action.name], "tiemout": 5})
    assert info.value.errors()[0]["type"] == "extra_forbidden"


def test_public_api_is_pinned() -> None:
    assert sorted(kyra.actions.__all__) == [
        "Action",
        "ActionRegistry",
        "BUILTIN_ACTIONS",
        "RequestPacer",
        "StepContext",
        "default_registry",
        "provider_for_host",
        "provider_for_url",
    ]
    assert sorted(kyra.demo.__all__) == ["FaultApp", "FaultServer"]
