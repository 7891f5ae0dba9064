"""The exact HTTP bodies Slack POSTs to the app's /slack/events endpoint, one builder per surface."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

TEAM_ID = "T0TEAM"
TEAM_DOMAIN = "hotfix-team"
API_APP_ID = "A0HOTFIX"
BOT_USER_ID = "U0HOTFIXBOT"
VERIFICATION_TOKEN = "legacy-verification-token"  # deprecated by Slack, still sent; Bolt ignores it
# Slack always sends a response_url; pass `response_url=slack.response_url()` to have the fake record replies.
UNREACHABLE_RESPONSE_URL = "http://127.0.0.1:9/no-response-url-given"

_serial = itertools.count(1)


def slash_command(
    text: str, *, user_id: str, channel_id: str = "C0HOTFIX", command: str = "/hotfix",
    trigger_id: str | None = None, response_url: str | None = None, team_id: str = TEAM_ID,
) -> str:
    return urlencode({
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_id.lower(),
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url or UNREACHABLE_RESPONSE_URL,
        "trigger_id": trigger_id or new_trigger_id(),
    })


def block_actions(
    action_id: str, value: str, *, user_id: str, channel_id: str, message_ts: str,
    block_id: str | None = None, trigger_id: str | None = None, message: dict[str, Any] | None = None,
    response_url: str | None = None, team_id: str = TEAM_ID,
) -> str:
    """A button click on a message; pass `message=slack.message(channel, ts)` to send what the user saw."""
    message = message or {"type": "message", "user": BOT_USER_ID, "ts": message_ts, "text": "", "blocks": []}
    button = _find_element(message.get("blocks", []), action_id)
    return _form_payload({
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False,
        },
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url or UNREACHABLE_RESPONSE_URL,
        "actions": [{
            "action_id": action_id,
            "block_id": block_id or button.get("block_id") or f"b{next(_serial)}",
            "text": button.get("text") or {"type": "plain_text", "text": action_id, "emoji": True},
            "value": value,
            "type": "button",
            "action_ts": _now_ts(),
        }],
    })


def view_submission(
    callback_id: str, state_values: dict[str, Any], *, user_id: str, view_id: str | None = None,
    private_metadata: str = "", hash: str | None = None, team_id: str = TEAM_ID,
    blocks: list[dict[str, Any]] | None = None,
) -> str:
    """A modal's submit (pass the `blocks` the modal showed when the app reads them); `state_values` is {block_id: {action_id: text_input_state(...)}} or select_state."""
    view_id = view_id or f"V{next(_serial):010d}"
    return _form_payload({
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": new_trigger_id(),
        "view": {
            "id": view_id, "team_id": team_id, "type": "modal", "callback_id": callback_id,
            "state": {"values": state_values}, "private_metadata": private_metadata,
            "hash": hash or f"{int(time.time())}.{next(_serial)}",
            "title": {"type": "plain_text", "text": "Hotfix"},
            "blocks": blocks or [], "close": None, "submit": {"type": "plain_text", "text": "Submit"},
            "clear_on_close": False, "notify_on_close": False, "external_id": "",
            "previous_view_id": None, "root_view_id": view_id, "app_id": API_APP_ID,
            "app_installed_team_id": team_id, "bot_id": "B0HOTFIX",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    })


def text_input_state(value: str | None) -> dict[str, Any]:
    """The state Slack reports for a plain_text_input (value None when left empty)."""
    return {"type": "plain_text_input", "value": value}


def select_state(value: str | None, text: str | None = None) -> dict[str, Any]:
    """The state Slack reports for a static_select (selected_option None when nothing is chosen)."""
    option = None if value is None else {"text": {"type": "plain_text", "text": text or value, "emoji": True},
                                         "value": value}
    return {"type": "static_select", "selected_option": option}


def declaration_state(*, title: str = "Checkout returns 500", issue_id: str = "PROD-501", severity: str | None = "high",
                      impact: str = "All card payments fail", risk: str = "Revenue loss every minute",
                      repo: str | None = "payments", security: bool = False, override: bool = False) -> dict:
    """The declare modal's state as Slack submits it, filled in like a person would (each field can be changed)."""
    def checked(on: bool) -> dict:
        return {"type": "checkboxes", "selected_options": [{"value": "yes"}] if on else []}

    state = {
        "title": text_input_state(title),
        "issue_id": text_input_state(issue_id),
        "severity": select_state(severity),
        "impact": text_input_state(impact),
        "risk": text_input_state(risk),
        "repo": select_state(repo),
        "security": checked(security),
        "override": checked(override),
    }
    return {block: {block: element} for block, element in state.items()}


def event_callback(event: dict[str, Any], *, event_id: str | None = None, team_id: str = TEAM_ID) -> str:
    return json.dumps({
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_serial):010d}",
        "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": BOT_USER_ID,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    })


def url_verification(challenge: str) -> str:
    return json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"})


def new_trigger_id() -> str:
    return f"{int(time.time())}.{next(_serial)}.fake{next(_serial):08x}"


def _form_payload(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def _user(user_id: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}


def _now_ts() -> str:
    return f"{time.time():.6f}"


def _find_element(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    """The clicked element with its block's block_id, as Slack reports them; {} if the message lacks it."""
    for block in blocks:
        for element in [*(block.get("elements") or []), block.get("accessory")]:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return {"block_id": block.get("block_id"), "text": element.get("text")}
    return {}
