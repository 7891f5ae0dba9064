"""Socket Mode: `hotfix-bot serve` without --http, a real process connected to a fake Slack over a WebSocket.

In Socket Mode nothing listens for Slack: the bot opens the connection itself with the app-level token, so
there is no request signature to check. What must hold is that the connection takes the xapp- token only,
and that envelopes go through the same listeners and the same rules as HTTP requests.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from tests.support import payloads
from tests.support.driver import declaration_state, eventually, find_button, message_text
from tests.support.fake_slack import FakeSlack
from tests.support.fake_socket_mode import FakeSocketMode

APP_TOKEN = "xapp-1-A0HOTFIX-1-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def socket_mode(slack: FakeSlack, env: dict[str, str], tmp_path: Path) -> Iterator[FakeSocketMode]:
    server = FakeSocketMode().start()
    slack.offer_socket_mode(server.url, app_token=APP_TOKEN)
    log = (tmp_path / "bot.log").open("wb")
    bot = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                           env={**os.environ, **env, "SLACK_APP_TOKEN": APP_TOKEN})
    try:
        server.wait_connected()
        yield server
    finally:
        bot.terminate()
        stopped = bot.wait(timeout=15)
        server.stop()
        log.close()
    assert stopped == 0, (tmp_path / "bot.log").read_text()  # SIGTERM stops Socket Mode cleanly too


def slash(text: str, user: str) -> dict:
    return dict(parse_qsl(payloads.slash_command(text, user_id=user)))


def interactive(form_body: str) -> dict:
    return json.loads(dict(parse_qsl(form_body))["payload"])


def test_the_connection_is_opened_with_the_app_level_token(socket_mode: FakeSocketMode, slack: FakeSlack) -> None:
    opened = slack.calls_to("apps.connections.open")
    assert opened and not [c for c in opened if c.error]
    slack.assert_no_problems()  # a bot token there would be refused and listed


def test_a_slash_command_is_answered_in_the_envelopes_ack(socket_mode: FakeSocketMode) -> None:
    ack = socket_mode.ack(socket_mode.send("slash_commands", slash("help", user="UDEV")))

    assert ack["payload"]["response_type"] == "ephemeral"
    assert "/hotfix declare" in ack["payload"]["text"]


def test_a_hotfix_is_declared_and_approved_over_socket_mode_with_the_same_rules(
    socket_mode: FakeSocketMode, slack: FakeSlack
) -> None:
    submission = payloads.view_submission("hotfix_declare", declaration_state(severity="high"), user_id="UDEV")
    assert "payload" not in socket_mode.ack(socket_mode.send("interactive", interactive(submission)))
    status = eventually(lambda: next((m for m in slack.messages("C0HOTFIX") if m["text"].startswith("HF-1 ")), None),
                        timeout=15)

    def click(label: str, user: str) -> None:
        message = slack.message("C0HOTFIX", status["ts"])
        button = find_button(message, label)
        body = payloads.block_actions(button["action_id"], button.get("value", ""), user_id=user,
                                      channel_id="C0HOTFIX", message_ts=status["ts"], message=message)
        socket_mode.ack(socket_mode.send("interactive", interactive(body)))

    click("Approve", user="UNOBODY")  # holds no role: refused, as over HTTP
    refusal = slack.wait_for("chat.postEphemeral", user="UNOBODY", timeout=10)[0]
    assert refusal["text"] == ("HF-1 needs approval from: Engineering manager, On-call lead. "
                               "You hold none of those roles.")

    click("Approve", user="UEM")
    eventually(lambda: "✅ Engineering manager: <@UEM>" in message_text(slack.message("C0HOTFIX", status["ts"])),
               timeout=10)
    slack.assert_no_problems()
