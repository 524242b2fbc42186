"""`slack_message` and `teams_message`: post to incoming webhooks in their documented shapes.

Slack: `{"text", "blocks"?, "username"?, "icon_emoji"?, "icon_url"?}`
(https://api.slack.com/messaging/webhooks); errors come back as plain-text statuses
(400 `invalid_payload`, 403 `action_prohibited`, 404 `no_service`, 410
`channel_is_archived`).

Teams (connector and Workflows webhooks): an Adaptive Card inside a message,
`{"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "content": card}]}`. Old connectors relay a
failure as HTTP 200 with "Webhook message delivery failed with error: ... HTTP error 429"
in the body; that becomes a RemoteStatusError carrying the relayed status.

Both go through `kyra.actions.http.send`: same pacing, timeout and error mapping.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kyra.actions.base import StepContext, Text
from kyra.actions.http import check_http_url, send
from kyra.actions.httperrors import excerpt, status_error

RESPONSE_TEXT_LIMIT = 2048
ADAPTIVE_CARD_TYPE = "application/vnd.microsoft.card.adaptive"
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
TEAMS_RELAYED_FAILURE = re.compile(r"delivery failed.*?HTTP error (\d{3})", re.I | re.S)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SlackMessageParams(_Strict):
    """Parameters of `slack_message`."""

    webhook_url: str
    text: Text = Field(min_length=1)
    """The message, and the notification fallback when `blocks` are given."""
    blocks: list[dict[str, Any]] | None = None
    username: str | None = None
    icon_emoji: str | None = None
    icon_url: str | None = None

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return check_http_url(value)


class TeamsMessageParams(_Strict):
    """Parameters of `teams_message`: `text` and/or an Adaptive Card `card`."""

    webhook_url: str
    text: Text | None = None
    title: Text | None = None
    card: dict[str, Any] | None = None
    """An Adaptive Card (`{"type": "AdaptiveCard", "version": ..., "body": [...]}`)."""

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return check_http_url(value)

    @field_validator("card")
    @classmethod
    def _adaptive(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and value.get("type") != "AdaptiveCard":
            raise ValueError("card must be an Adaptive Card: a dict with type 'AdaptiveCard'")
        return value

    @model_validator(mode="after")
    def _something_to_say(self) -> TeamsMessageParams:
        if not self.text and self.card is None:
            raise ValueError("teams_message needs 'text' or 'card'")
        return self


def slack_payload(params: SlackMessageParams) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": params.text}
    for key in ("blocks", "username", "icon_emoji", "icon_url"):
        value = getattr(params, key)
        if value is not None:
            payload[key] = value
    return payload


def teams_payload(params: TeamsMessageParams) -> dict[str, Any]:
    """The message envelope; without a `card`, title and text become a simple card."""
    if params.card is not None:
        content = params.card
    else:
        body: list[dict[str, Any]] = []
        if params.title:
            body.append(
                {
                    "type": "TextBlock",
                    "text": params.title,
                    "weight": "Bolder",
                    "size": "Medium",
                    "wrap": True,
                }
            )
        body.append({"type": "TextBlock", "text": params.text, "wrap": True})
        content = {
            "$schema": ADAPTIVE_CARD_SCHEMA,
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
        }
    payload: dict[str, Any] = {
        "type": "message",
        "attachments": [
            {"contentType": ADAPTIVE_CARD_TYPE, "contentUrl": None, "content": content}
        ],
    }
    if params.card is not None:
        # With a custom card, text and title ride along as the message text and the
        # notification summary rather than being injected into the user's card.
        if params.text:
            payload["text"] = params.text
        if params.title:
            payload["summary"] = params.title
    return payload


class SlackMessage:
    """Posts a message to a Slack incoming webhook."""

    name: ClassVar[str] = "slack_message"
    Params: ClassVar[type[BaseModel]] = SlackMessageParams

    def run(self, params: SlackMessageParams, ctx: StepContext) -> dict[str, Any]:
        response, info, elapsed = send(
            ctx,
            action=self.name,
            method="POST",
            url=params.webhook_url,
            json=slack_payload(params),
            has_json=True,
        )
        if response.status_code >= 400:
            raise status_error(response, info, elapsed)
        return {
            "status_code": response.status_code,
            "response": excerpt(response.text, RESPONSE_TEXT_LIMIT),
        }


class TeamsMessage:
    """Posts a message (an Adaptive Card) to a Microsoft Teams incoming webhook."""

    name: ClassVar[str] = "teams_message"
    Params: ClassVar[type[BaseModel]] = TeamsMessageParams

    def run(self, params: TeamsMessageParams, ctx: StepContext) -> dict[str, Any]:
        response, info, elapsed = send(
            ctx,
            action=self.name,
            method="POST",
            url=params.webhook_url,
            json=teams_payload(params),
            has_json=True,
        )
        if response.status_code >= 400:
            raise status_error(response, info, elapsed)
        relayed = TEAMS_RELAYED_FAILURE.search(response.text)
        if relayed:
            status = int(relayed.group(1))
            raise status_error(
                response,
                info,
                elapsed,
                status_code=status,
                message=f"Teams webhook delivery failed with HTTP {status}",
            )
        return {
            "status_code": response.status_code,
            "response": excerpt(response.text, RESPONSE_TEXT_LIMIT),
        }


__all__ = ["SlackMessage", "SlackMessageParams", "TeamsMessage", "TeamsMessageParams"]
