"""What Slack sends to the app, for the demo: signed POSTs to /slack/events in Slack's own payload shapes."""
from __future__ import annotations

import http.client
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.demo_slack import TEAM_ID
from bot.http import SLACK_PATH

APP_ID = "A0HOTFIX"
_serial = itertools.count(1)


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


class SlackRequests:
    """Signs each body with the signing secret and POSTs it to the bot, exactly as Slack does."""

    def __init__(self, port: int, signing_secret: str, response_url: str) -> None:
        self.port = port
        self._verifier = SignatureVerifier(signing_secret)
        self.response_url = response_url

    def post(self, body: str) -> Answer:
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": self._verifier.generate_signature(timestamp=stamp, body=body)}
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            connection.request("POST", SLACK_PATH, body=body.encode(), headers=headers)
            response = connection.getresponse()
            return Answer(response.status, response.read().decode())
        finally:
            connection.close()

    def slash_command(self, text: str, *, user: str, channel: str, trigger_id: str) -> Answer:
        return self.post(urlencode({
            "team_id": TEAM_ID, "team_domain": "demo", "channel_id": channel, "channel_name": "hotfixes",
            "user_id": user, "user_name": user.lower(), "command": "/hotfix", "text": text, "api_app_id": APP_ID,
            "is_enterprise_install": "false", "response_url": self.response_url, "trigger_id": trigger_id,
        }))

    def click(self, button: dict[str, Any], *, user: str, channel: str, message: dict[str, Any],
              trigger_id: str) -> Answer:
        """A block_actions payload for `button`, found in `message` as the person saw it."""
        return self.post(_form({
            "type": "block_actions", "user": _user(user), "api_app_id": APP_ID,
            "team": {"id": TEAM_ID, "domain": "demo"},
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": False},
            "trigger_id": trigger_id, "channel": {"id": channel, "name": "hotfixes"}, "message": message,
            "state": {"values": {}}, "response_url": self.response_url, "is_enterprise_install": False,
            "actions": [{"action_id": button["action_id"], "block_id": button["block_id"], "text": button["text"],
                         "value": button.get("value", ""), "type": "button", "action_ts": f"{time.time():.6f}"}],
        }))

    def submit(self, view: dict[str, Any], values: dict[str, Any], *, user: str) -> Answer:
        """A view_submission of the modal the bot opened, with `values` as {block_id: {action_id: state}}."""
        submitted = {**view, "state": {"values": values}, "hash": f"{int(time.time())}.{next(_serial)}",
                     "root_view_id": view["id"], "app_id": APP_ID, "private_metadata": view.get("private_metadata", "")}
        return self.post(_form({
            "type": "view_submission", "team": {"id": TEAM_ID, "domain": "demo"}, "user": _user(user),
            "api_app_id": APP_ID, "trigger_id": new_trigger_id(), "view": submitted, "response_urls": [],
            "is_enterprise_install": False,
        }))


def new_trigger_id() -> str:
    return f"{int(time.time())}.{next(_serial)}.demo{next(_serial):06d}"


def text_state(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def select_state(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}


def checkboxes_state(options: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": options}


def find_button(blocks: list[dict[str, Any]], label: str) -> dict[str, Any] | None:
    """The button a person would click, with its block's ID, as Slack reports both."""
    for block in blocks:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return {**element, "block_id": block.get("block_id", "")}
    return None


def _form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def _user(user_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID}
