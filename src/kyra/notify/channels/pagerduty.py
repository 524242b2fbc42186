"""PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/overview/).

One PagerDuty incident per Kyra incident: `dedup_key` is the incident id. `verified`
and `recovered` resolve it, `approved` acknowledges it, any other routed event triggers
it (by default only `needs_attention`). A resolve for an incident PagerDuty never heard
of is skipped, and so is a late trigger (e.g. a retried delivery) after the incident was
resolved, so nobody is paged for something already fixed.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from kyra.notify.channels.base import Outgoing, Sent, post_json
from kyra.notify.messages import Notification
from kyra.notify.routing import PagerDutyConfig, resolve_secret

EventAction = Literal["trigger", "acknowledge", "resolve"]
ACTIONS: dict[str, EventAction] = {
    "verified": "resolve",
    "recovered": "resolve",
    "host_recovered": "resolve",
    "approved": "acknowledge",
}
SUMMARY_LIMIT = 1024


def event_action(kind: str) -> EventAction:
    return ACTIONS.get(kind, "trigger")


def pagerduty_event(
    note: Notification, routing_key: str, severity: str = "error"
) -> dict[str, Any]:
    """The Events API v2 body; acknowledge and resolve carry no payload."""
    action = event_action(note.kind)
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": note.incident,
    }
    if action != "trigger":
        return event
    summary = f"{note.title}: {note.text}"
    event["payload"] = {
        "summary": summary if len(summary) <= SUMMARY_LIMIT else summary[: SUMMARY_LIMIT - 1] + "…",
        "source": f"kyra/{note.workflow}",
        "severity": severity,
        "timestamp": note.at.isoformat(),
        "component": note.step or note.workflow,
        "group": note.workflow,
        "class": note.error_class or note.kind,
        "custom_details": {
            "event": note.kind,
            "workflow": note.workflow,
            "what_broke": {"step": note.step, "error": note.error},
            "diagnosis": note.diagnosis,
            **({"explanation": dict(note.lesson)} if note.lesson else {}),
            "changes": [f"{c.path}: {c.before} → {c.after}" for c in note.changes],
            "undo": note.undo_command,
            "execution_id": note.execution_id,
            "fix_id": note.fix_id,
        },
    }
    event["client"] = "Kyra"
    event["client_url"] = note.dashboard_url
    event["links"] = [{"href": note.dashboard_url, "text": note.label("dashboard")}]
    return event


class PagerDutyChannel:
    """Triggers, acknowledges and resolves one PagerDuty alert per Kyra incident."""

    kind: ClassVar[str] = "pagerduty"

    def __init__(self, config: PagerDutyConfig) -> None:
        self.config = config

    def send(self, out: Outgoing) -> Sent:
        action = event_action(out.note.kind)
        sent_before = [d for d in out.earlier if d.id < out.delivery_id]
        triggers = [d for d in sent_before if event_action(d.event_kind) == "trigger"]
        if action != "trigger" and not triggers:
            return Sent(skipped=f"no PagerDuty alert was triggered for this incident ({action})")
        later = [d for d in out.earlier if d.id != out.delivery_id and d.status == "sent"]
        if action == "trigger" and any(event_action(d.event_kind) == "resolve" for d in later):
            return Sent(skipped="the PagerDuty alert of this incident is already resolved")
        key = resolve_secret(self.config.routing_key_secret, out.secrets)
        url = self.config.url or out.settings.pagerduty_events_url
        post_json(out, url, pagerduty_event(out.note, key, self.config.severity), what="PagerDuty")
        return Sent()
