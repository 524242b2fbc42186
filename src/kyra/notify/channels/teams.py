"""Microsoft Teams incoming webhooks: an Adaptive Card (1.4) in the documented message
wrapper, built by the `teams_message` action's payload builder, with an `Action.OpenUrl`
to the dashboard. Old connectors answer 200 with "Webhook message delivery failed ...
HTTP error 429"; that counts as a failure with the relayed status."""

from __future__ import annotations

from typing import Any, ClassVar

from kyra.actions.chat import ADAPTIVE_CARD_SCHEMA, TeamsMessageParams, teams_payload
from kyra.actions.chat import TEAMS_RELAYED_FAILURE as RELAYED_FAILURE
from kyra.notify.channels.base import ChannelError, Outgoing, Sent, post_json, retryable_status
from kyra.notify.messages import Notification
from kyra.notify.routing import TeamsConfig

COLOURS = {
    "failing": "Attention",
    "fixing": "Warning",
    "fixed": "Good",
    "attention": "Warning",
    "info": "Default",
}


def _text(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def teams_card(note: Notification) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        _text(
            f"{note.icon} {note.title}",
            weight="Bolder",
            size="Medium",
            color=COLOURS.get(note.status, "Default"),
        ),
        _text(note.text),
    ]
    facts = [{"title": note.label("workflow"), "value": note.workflow}]
    if note.step:
        facts.append({"title": note.label("step"), "value": note.step})
    if note.error:
        facts.append({"title": note.label("what_broke"), "value": note.error})
    if note.diagnosis:
        facts.append({"title": note.label("diagnosis"), "value": note.diagnosis})
    body.append({"type": "FactSet", "facts": facts})
    if note.changes:
        suffix = f" ({note.versions})" if note.versions else ""
        body.append(_text(f"{note.changes_label}{suffix}", weight="Bolder"))
        lines = "\n\n".join(f"{c.path}: {c.before} → {c.after}" for c in note.changes)
        body.append(_text(lines, fontType="Monospace"))
    if note.lesson:
        body.append(
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in note.lesson]}
        )
    if note.undo_command:
        body.append(_text(f"{note.label('undo')}: {note.undo_command}", isSubtle=True))
    body.append(_text(f"{note.label('incident')} {note.incident[:8]}", isSubtle=True, size="Small"))
    return {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [
            {"type": "Action.OpenUrl", "title": note.label("dashboard"), "url": note.dashboard_url}
        ],
    }


def teams_notification(note: Notification, url: str) -> dict[str, Any]:
    params = TeamsMessageParams(webhook_url=url, title=note.title, card=teams_card(note))
    return teams_payload(params)


class TeamsChannel:
    """Posts each stage as an Adaptive Card to a Teams incoming webhook."""

    kind: ClassVar[str] = "teams"

    def __init__(self, config: TeamsConfig) -> None:
        self.config = config

    def send(self, out: Outgoing) -> Sent:
        url = self.config.resolve_url(out.secrets)
        response = post_json(out, url, teams_notification(out.note, url), what="the Teams webhook")
        relayed = RELAYED_FAILURE.search(response.text)
        if relayed:
            status = int(relayed.group(1))
            raise ChannelError(
                f"the Teams webhook relayed a delivery failure (HTTP {status})",
                retryable=retryable_status(status),
                status_code=status,
            )
        return Sent()
