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
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from bot.standins import payloads
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


# --- Slack unreachable at start: an outage during an incident ---------------------------------------------------------
@pytest.fixture
def slack_down(slack: FakeSlack, env: dict[str, str], tmp_path: Path) -> Iterator[tuple[subprocess.Popen, Path]]:
    """`serve` started while the stand-in for Slack's Web API is down (it comes back at the same address)."""
    slack.stop()
    log = tmp_path / "bot.log"
    with log.open("wb") as written:
        bot = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, stdout=written,
                               stderr=subprocess.STDOUT, env={**os.environ, **env, "SLACK_APP_TOKEN": APP_TOKEN})
    try:
        eventually(lambda: "can't reach Slack" in log.read_text(), timeout=30)
        yield bot, log
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait(timeout=10)
        slack.start()  # for the slack fixture's own end


def log_lines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_serve_started_while_slack_is_down_retries_quietly_and_connects_when_slack_is_back(
    slack_down: tuple[subprocess.Popen, Path], slack: FakeSlack
) -> None:
    bot, log = slack_down
    server = FakeSocketMode().start()
    slack.offer_socket_mode(server.url, app_token=APP_TOKEN)
    try:
        eventually(lambda: "this process is the leader: it runs timers and jobs" in log.read_text(), timeout=15)
        slack.start()
        server.wait_connected(timeout=45)
        ack = server.ack(server.send("slash_commands", slash("help", user="UDEV")))
        assert "/hotfix declare" in ack["payload"]["text"]
    finally:
        bot.terminate()
        stopped = bot.wait(timeout=15)
        server.stop()
    text = log.read_text()
    assert stopped == 0 and "Traceback" not in text, text
    outage = [line for line in log_lines(log) if line["level"] in ("warning", "error")]
    assert [line["message"].split(" (")[0] for line in outage] == ["can't reach Slack"], text
    assert "retrying with back-off until it answers, timers and jobs keep running" in outage[0]["message"]
    assert "connected to Slack in Socket Mode after" in text


def test_sigterm_while_slack_is_down_stops_serve_at_once_and_quietly(
    slack_down: tuple[subprocess.Popen, Path]
) -> None:
    bot, log = slack_down
    eventually(lambda: "can't reach Slack" in log.read_text(), timeout=30)
    time.sleep(0.5)  # into the back-off: a wait, or a try under way

    started = time.monotonic()
    bot.terminate()
    code = bot.wait(timeout=15)

    text = log.read_text()
    assert code == 0 and time.monotonic() - started < 5, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
