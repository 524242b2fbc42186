"""Slack incoming webhooks: Block Kit blocks (header, sections, diff, undo, a dashboard
button) with `text` as the notification fallback, built by the `slack_message` action's
own payload builder. Incoming webhooks cannot thread, so each stage is one message."""

from __future__ import annotations

from typing import Any, ClassVar

from kyra.actions.chat import SlackMessageParams, slack_payload
from kyra.notify.channels.base import Outgoing, Sent, post_json
from kyra.notify.messages import Notification
from kyra.notify.routing import SlackConfig

SECTION_LIMIT = 3000
HEADER_LIMIT = 150


def _escape(text: str) -> str:
    """Slack mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def slack_blocks(note: Notification) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _clip(f"{note.icon} {note.title}", HEADER_LIMIT),
                "emoji": True,
            },
        },
        _section(_escape(note.text)),
    ]
    fields = [{"type": "mrkdwn", "text": f"*{note.label('workflow')}*\n{_escape(note.workflow)}"}]
    if note.step:
        fields.append({"type": "mrkdwn", "text": f"*{note.label('step')}*\n`{_escape(note.step)}`"})
    blocks.append({"type": "section", "fields": fields})
    if note.error:
        blocks.append(_section(f"*{note.label('what_broke')}*\n{_escape(note.error)}"))
    if note.diagnosis:
        blocks.append(_section(f"*{note.label('diagnosis')}*\n{_escape(note.diagnosis)}"))
    if note.changes:
        suffix = f" ({note.versions})" if note.versions else ""
        lines = "\n".join(f"{c.path}: {c.before} → {c.after}" for c in note.changes)
        blocks.append(_section(f"*{note.changes_label}*{suffix}\n```{_escape(lines)}```"))
    for label, text in note.lesson:
        blocks.append(_section(f"*{_escape(label)}*\n{_escape(text)}"))
    if note.undo_command:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"*{note.label('undo')}:* `{note.undo_command}`"}
                ],
            }
        )
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": note.label("dashboard")},
                    "url": note.dashboard_url,
                    "action_id": "kyra_open_dashboard",
                }
            ],
        }
    )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": f"{note.label('incident')} `{note.incident[:8]}`"}
            ],
        }
    )
    return blocks


def slack_notification(note: Notification, url: str) -> dict[str, Any]:
    params = SlackMessageParams(
        webhook_url=url,
        text=_clip(f"{note.icon} {note.title}: {note.text}"),
        blocks=slack_blocks(note),
    )
    return slack_payload(params)


class SlackChannel:
    """Posts each stage to a Slack incoming webhook."""

    kind: ClassVar[str] = "slack"

    def __init__(self, config: SlackConfig) -> None:
        self.config = config

    def send(self, out: Outgoing) -> Sent:
        url = self.config.resolve_url(out.secrets)
        post_json(out, url, slack_notification(out.note, url), what="the Slack webhook")
        return Sent()
