"""`slack_message` / `teams_message`: documented payloads arrive; webhook errors map."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from kyra.actions.base import RequestPacer
from kyra.actions.chat import (
    SlackMessage,
    SlackMessageParams,
    TeamsMessage,
    TeamsMessageParams,
)
from kyra.demo import FaultServer
from kyra.errors import RemoteStatusError, StepError, TransportError
from tests.actions.conftest import FakeClock, MakeCtx
from tests.servers.webhook import WebhookReceiver

SLACK = SlackMessage()
TEAMS = TeamsMessage()
CARD = {
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "type": "AdaptiveCard",
    "version": "1.4",
    "body": [{"type": "TextBlock", "text": "Deploy finished", "wrap": True}],
}


def slack(ctx: Any, **p: Any) -> dict[str, Any]:
    return SLACK.run(SlackMessageParams.model_validate(p), ctx)


def teams(ctx: Any, **p: Any) -> dict[str, Any]:
    return TEAMS.run(TeamsMessageParams.model_validate(p), ctx)


def test_slack_payload_is_the_incoming_webhook_json(
    webhook_receiver: WebhookReceiver, make_ctx: MakeCtx
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*done*"}}]
    out = slack(
        make_ctx(),
        webhook_url=webhook_receiver.url + "/services/T/B/X",
        text="done",
        blocks=blocks,
        username="kyra",
        icon_emoji=":robot_face:",
    )
    assert out == {"status_code": 200, "response": "ok"}
    [request] = webhook_receiver.requests
    assert (request.method, request.path) == ("POST", "/services/T/B/X")
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "text": "done",
        "blocks": blocks,
        "username": "kyra",
        "icon_emoji": ":robot_face:",
    }


@pytest.mark.parametrize(
    ("status", "text"),
    [(400, "invalid_payload"), (404, "no_service"), (410, "channel_is_archived")],
)
def test_slack_webhook_errors_keep_status_and_body(
    webhook_receiver: WebhookReceiver, make_ctx: MakeCtx, status: int, text: str
) -> None:
    webhook_receiver.respond(status, text)
    with pytest.raises(RemoteStatusError) as info:
        slack(make_ctx(), webhook_url=webhook_receiver.url + "/hook", text="hi")
    error = info.value
    assert (error.status_code, error.body_excerpt, error.retryable) == (status, text, False)
    assert error.action == "slack_message"
    assert error.message.endswith(text)


def test_slack_rate_limit_carries_retry_after(fault_server: FaultServer, make_ctx: MakeCtx) -> None:
    with pytest.raises(RemoteStatusError) as info:
        slack(
            make_ctx(provider="slack"),
            webhook_url=fault_server.url + "/provider/slack/ratelimited?retry_after=4",
            text="hi",
        )
    assert (info.value.status_code, info.value.retry_after) == (429, 4.0)
    assert info.value.retryable is True
    assert info.value.provider == "slack"


def test_slack_honours_the_pacer(
    webhook_receiver: WebhookReceiver, make_ctx: MakeCtx, fake_clock: FakeClock
) -> None:
    ctx = make_ctx(
        request_delay=1.5,
        pacer=RequestPacer(sleep=fake_clock.sleep, monotonic=fake_clock.monotonic),
    )
    slack(ctx, webhook_url=webhook_receiver.url, text="one")
    teams(ctx, webhook_url=webhook_receiver.url, text="two")
    assert fake_clock.sleeps == [1.5]
    assert len(webhook_receiver.requests) == 2


def test_teams_text_becomes_an_adaptive_card_message(
    webhook_receiver: WebhookReceiver, make_ctx: MakeCtx
) -> None:
    webhook_receiver.respond(202, "")
    out = teams(
        make_ctx(),
        webhook_url=webhook_receiver.url + "/workflows/1",
        text="Backup done",
        title="Nightly backup",
    )
    assert out["status_code"] == 202
    payload = webhook_receiver.requests[0].json
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert [block["text"] for block in card["body"]] == ["Nightly backup", "Backup done"]
    assert card["body"][0]["weight"] == "Bolder"


def test_teams_card_is_wrapped_unchanged(
    webhook_receiver: WebhookReceiver, make_ctx: MakeCtx
) -> None:
    teams(make_ctx(), webhook_url=webhook_receiver.url, card=CARD, text="fallback")
    payload = webhook_receiver.requests[0].json
    assert payload == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": CARD,
            }
        ],
        "text": "fallback",
    }


def test_teams_failure_relayed_inside_a_200_is_an_error(
    fault_server: FaultServer, make_ctx: MakeCtx
) -> None:
    with pytest.raises(RemoteStatusError) as info:
        teams(
            make_ctx(),
            text="hi",
            webhook_url=fault_server.url + "/provider/microsoft/teams_relayed_429",
        )
    assert info.value.status_code == 429
    assert info.value.retryable is True
    assert "delivery failed" in (info.value.body_excerpt or "")


def test_webhook_timeouts_and_refusals_use_the_shared_mapper(
    fault_server: FaultServer, make_ctx: MakeCtx, closed_port: int
) -> None:
    errors: list[StepError] = []
    with pytest.raises(TransportError) as timeout:
        teams(make_ctx(timeout=0.1), text="x", webhook_url=fault_server.url + "/slow?delay=0.4")
    errors.append(timeout.value)
    with pytest.raises(TransportError) as refused:
        slack(make_ctx(), text="x", webhook_url=f"http://127.0.0.1:{closed_port}/h")
    errors.append(refused.value)
    assert [(e.action, e.error_type) for e in errors] == [
        ("teams_message", "ReadTimeout"),
        ("slack_message", "ConnectError"),
    ]


@pytest.mark.parametrize(
    ("model", "p"),
    [
        (SlackMessageParams, {"webhook_url": "http://h", "text": ""}),
        (SlackMessageParams, {"webhook_url": "hooks.slack.com/x", "text": "t"}),
        (SlackMessageParams, {"webhook_url": "http://h", "text": "t", "channel": "#x"}),
        (TeamsMessageParams, {"webhook_url": "http://h"}),
        (TeamsMessageParams, {"webhook_url": "http://h", "card": {"type": "MessageCard"}}),
    ],
)
def test_invalid_params_are_rejected(model: Any, p: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(p)
