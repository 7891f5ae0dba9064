"""Drives the real bot the way Slack does: signed HTTP requests to /slack/events, Web API calls to FakeSlack."""
from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.http import make_server
from bot.store import jobs
from bot.wiring import Bot
from bot.standins import payloads
from bot.standins.payloads import declaration_state
from tests.support.fake_slack import FakeSlack
from bot.standins.signing import signed_headers

CHANNEL = "C0HOTFIX"


@dataclass
class Answer:
    status: int
    body: str
    elapsed: float

    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}

    @property
    def text(self) -> str:
        return self.json().get("text", "") if self.body.startswith("{") else self.body


@dataclass(frozen=True)
class Posted:
    """A declared hotfix as the channel sees it: its key and its status message."""

    key: str
    channel: str
    ts: str


class Driver:
    def __init__(self, bot: Bot, slack: FakeSlack, secret: str) -> None:
        self.bot, self.slack, self.secret = bot, slack, secret
        self._server = make_server(bot, host="127.0.0.1", port=0, threads=4)
        self.port = self._server.effective_port
        self._thread = threading.Thread(target=self._serve, name="bot-http", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self._server.run()
        except OSError:  # the listening socket was closed under the select loop: we are stopping
            pass

    def close(self) -> None:
        self._server.close()
        self._thread.join(timeout=5)

    # --- raw HTTP -------------------------------------------------------------------------------------------------
    def post(self, body: str, *, headers: dict[str, str] | None = None, timestamp: int | None = None) -> Answer:
        headers = headers if headers is not None else signed_headers(self.secret, body, timestamp=timestamp)
        return self.request("POST", "/slack/events", body, headers)

    def request(self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body.encode(), headers=headers or {})
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        return Answer(response.status, text, time.perf_counter() - started)

    # --- what people do -----------------------------------------------------------------------------------------
    def command(self, text: str, *, user: str) -> Answer:
        answer = self.post(payloads.slash_command(text, user_id=user, response_url=self.slack.response_url()))
        if answer.body.startswith("{"):
            self.slack.check_answer(f"/hotfix {text.split(' ', 1)[0]} answer", answer.json())
        return answer

    def submit_declaration(self, *, user: str, view_id: str | None = None, **fields: Any) -> Answer:
        return self.post(payloads.view_submission("hotfix_declare", declaration_state(**fields), user_id=user,
                                                  view_id=view_id))

    def declare(self, *, user: str = "UDEV", **fields: Any) -> Posted:
        before = len(self.slack.calls_to("chat.postMessage"))
        answer = self.submit_declaration(user=user, **fields)
        assert answer.status == 200 and not answer.body, answer
        def status_posted():
            self.bot.run_pending()  # also works when the test runs no worker threads
            posts = self.slack.calls_to("chat.postMessage")[before:]  # the status message starts with its key
            return next((c for c in posts if "thread_ts" not in c.args and c["text"].startswith("HF-")), None)

        status = eventually(status_posted)
        key = status["text"].split(" ", 1)[0]
        channel, ts = eventually(lambda: self.bot.status_messages.where(self.bot.service.read.get(key).number))
        return Posted(key, channel, ts)

    def click(self, label: str, hotfix: Posted, *, user: str) -> Answer:
        message = self.slack.message(hotfix.channel, hotfix.ts)
        button = find_button(message, label)
        return self.post(payloads.block_actions(button["action_id"], button.get("value", ""), user_id=user,
                                                channel_id=hotfix.channel, message_ts=hotfix.ts, message=message,
                                                response_url=self.slack.response_url()))

    def submit_reason(self, hotfix: Posted, reason: str, *, user: str, callback: str = "hotfix_reject") -> Answer:
        state = {"reason": {"reason": payloads.text_input_state(reason)}}
        return self.post(payloads.view_submission(callback, state, user_id=user, private_metadata=hotfix.key))

    def submit_review(self, hotfix: Posted, *, user: str, ticked: int | None = None) -> Answer:
        """Tick the checklist of the review modal the bot opened (all items unless told otherwise)."""
        modal = self.slack.last("views.open", **{}).args["view"]
        checklists = [b for b in modal["blocks"] if b.get("element", {}).get("type") == "checkboxes"]
        state = {}
        for block in checklists:  # `ticked` counts in the first checklist; any others are ticked in full
            options = block["element"]["options"]
            chosen = options[:ticked] if ticked is not None and block is checklists[0] else options
            state[block["block_id"]] = {block["block_id"]: {"type": "checkboxes", "selected_options": chosen}}
        body = payloads.view_submission("hotfix_approve_review", state, user_id=user,
                                        private_metadata=modal["private_metadata"], blocks=modal["blocks"])
        return self.post(body)

    # --- what people see ------------------------------------------------------------------------------------------
    def settle(self) -> None:
        """Wait until every queued job has run (200 means acked, not done)."""
        deadline = time.monotonic() + 30  # generous: only a failing test waits it out, on a loaded machine
        while time.monotonic() < deadline:
            time.sleep(0.02)
            if self.bot.run_pending() == 0 and not self._busy():
                return
        raise AssertionError("jobs still running after 30 s")

    def status_text(self, hotfix: Posted) -> str:
        return message_text(self.slack.message(hotfix.channel, hotfix.ts))

    def thread(self, hotfix: Posted) -> list[str]:
        return [m.get("text", "") for m in self.slack.thread(hotfix.channel, hotfix.ts)]

    def ephemerals(self, user: str) -> list[str]:
        assert self.bot.error_replies.wait_until_told(), "refusals still being sent after 5 s"
        return [c["text"] for c in self.slack.calls_to("chat.postEphemeral", user=user)]

    def _busy(self) -> bool:
        """A job is running, or due and about to be claimed by a worker thread."""
        return jobs.unfinished(self.bot.engine, now=self.bot.clock.now()) > 0


def find_button(message: dict | None, label: str) -> dict:
    for block in (message or {}).get("blocks", []):
        for element in block.get("elements", []) or []:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return element
    raise AssertionError(f"no {label!r} button on the message: {message_text(message)!r}")


def message_text(message: dict | None) -> str:
    """Everything a person reads in a message: its text and every text inside its blocks."""
    if not message:
        return ""
    parts = [message.get("text", "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks", []))
    return "\n".join(parts)


def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, "condition not met in time"
            return result
        time.sleep(0.02)
