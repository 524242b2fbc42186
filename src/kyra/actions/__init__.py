"""Step connectors: HTTP, SMTP email, Slack/Teams webhooks, transform, wait.

`default_registry()` is what the engine uses: the built-ins plus any plug-in declared
under the `kyra.actions` entry-point group. A new built-in is one module and one line in
`BUILTIN_ACTIONS`.
"""

from __future__ import annotations

from kyra.actions.base import Action, ActionRegistry, RequestPacer, StepContext
from kyra.actions.chat import SlackMessage, TeamsMessage
from kyra.actions.email import SendEmail
from kyra.actions.http import HttpRequest
from kyra.actions.providers import provider_for_host, provider_for_url
from kyra.actions.transform import Transform
from kyra.actions.wait import Wait

BUILTIN_ACTIONS: tuple[type[Action], ...] = (
    HttpRequest,
    SendEmail,
    SlackMessage,
    TeamsMessage,
    Transform,
    Wait,
)
"""Action classes shipped with Kyra; each is instantiated once per registry."""


def default_registry(*, load_plugins: bool = True) -> ActionRegistry:
    """A fresh registry with the built-in actions and (by default) installed plug-ins."""
    registry = ActionRegistry(action() for action in BUILTIN_ACTIONS)
    if load_plugins:
        registry.load_entry_points()
    return registry


__all__ = [
    "BUILTIN_ACTIONS",
    "Action",
    "ActionRegistry",
    "RequestPacer",
    "StepContext",
    "default_registry",
    "provider_for_host",
    "provider_for_url",
]
