"""What Slack sends to the app, for the demo: signed POSTs to /slack/events in Slack's own payload shapes."""
from __future__ import annotations

import http.client
from dataclasses import dataclass
from typing import Any

from bot.http import SLACK_PATH
from bot.standins import payloads
from bot.standins.signing import signed_headers


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


class SlackRequests:
    """Signs each body with the signing secret and POSTs it to the bot, exactly as Slack does."""

    def __init__(self, port: int, signing_secret: str, response_url: str) -> None:
        self.port = port
        self._secret = signing_secret
        self.response_url = response_url

    def post(self, body: str) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            connection.request("POST", SLACK_PATH, body=body.encode(), headers=signed_headers(self._secret, body))
            response = connection.getresponse()
            return Answer(response.status, response.read().decode())
        finally:
            connection.close()

    def slash_command(self, text: str, *, user: str, channel: str, trigger_id: str) -> Answer:
        return self.post(payloads.slash_command(text, user_id=user, channel_id=channel, trigger_id=trigger_id,
                                                response_url=self.response_url))

    def click(self, button: dict[str, Any], *, user: str, channel: str, message: dict[str, Any],
              trigger_id: str) -> Answer:
        """A block_actions payload for `button`, found in `message` as the person saw it."""
        return self.post(payloads.block_actions(
            button["action_id"], button.get("value", ""), user_id=user, channel_id=channel, message_ts=message["ts"],
            block_id=button["block_id"], trigger_id=trigger_id, message=message, response_url=self.response_url))

    def submit(self, view: dict[str, Any], values: dict[str, Any], *, user: str) -> Answer:
        """A view_submission of the modal the bot opened, with `values` as {block_id: {action_id: state}}."""
        return self.post(payloads.view_submission(
            view.get("callback_id", ""), values, user_id=user, view_id=view["id"],
            private_metadata=view.get("private_metadata", ""), blocks=view.get("blocks")))


def checkboxes_state(options: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": options}


def find_button(blocks: list[dict[str, Any]], label: str) -> dict[str, Any] | None:
    """The button a person would click, with its block's ID, as Slack reports both."""
    for block in blocks:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return {**element, "block_id": block.get("block_id", "")}
    return None
