"""Logs are one JSON object per line off a terminal, name the hotfix, and never carry a secret."""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import SECRET_SETTINGS
from bot.logs import configure, redact
from bot.standins import payloads
from tests.support.config import SECRET
from tests.support.driver import declaration_state, eventually, find_button, message_text
from tests.support.fake_slack import FakeSlack
from tests.support.serve_process import Replica

HOTFIX_BOT = Path(sys.executable).parent / "hotfix-bot"

TOKEN = "xoxb-1111-2222-abcdefghijklmnop"


def test_a_step_logs_one_json_line_naming_the_hotfix_and_redacts_secrets() -> None:
    stream = io.StringIO()
    configure("info", "the-signing-secret-value", stream=stream)
    try:
        logging.getLogger("bot.service").info("%s %s by %s", "HF-7", "approved", "UEM",
                                              extra={"hotfix": "HF-7", "event": "approved"})
        logging.getLogger("slack_sdk").warning(f"sent Authorization: Bearer {TOKEN} with the-signing-secret-value "
                                               "to https://deploy:hunter22@git.example.com/x.git")
        try:
            raise RuntimeError(f"boom {TOKEN}")
        except RuntimeError:
            logging.getLogger("bot").exception("failed")
    finally:
        logging.getLogger().handlers.clear()

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["message"] == "HF-7 approved by UEM" and lines[0]["hotfix"] == "HF-7"
    assert lines[0]["level"] == "info" and lines[0]["logger"] == "bot.service"
    written = stream.getvalue()
    for secret in (TOKEN, "the-signing-secret-value", "hunter22"):
        assert secret not in written
    assert "RuntimeError: boom [redacted]" in lines[2]["error"]


@pytest.mark.parametrize("token", [
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "gho_16C7e42F292c6912E7710c838347Ae178B4a",
    "ghs_16C7e42F292c6912E7710c838347Ae178B4a", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
])
def test_github_tokens_are_redacted_wherever_they_appear(token: str) -> None:
    shown = redact(f"GitHub said 401 for Authorization: token {token}, remote https://x-access-token:{token}@h/r")

    assert token not in shown and "[redacted]" in shown


def test_the_cli_hands_the_github_token_and_webhook_secret_to_the_log_filter() -> None:
    assert {"GITHUB_TOKEN", "GITHUB_WEBHOOK_SECRET"} <= set(SECRET_SETTINGS)


# --- a real `serve --http` run at the default level ------------------------------------------------------------------
def test_serve_at_the_default_level_logs_only_the_bots_own_info_lines(
    env: dict[str, str], slack: FakeSlack, tmp_path: Path
) -> None:
    """No APScheduler line per tick, no Alembic set-up, no Bolt warning about `client` and `token`: an operator's
    log pipeline sees the hotfix, not the libraries."""
    log = tmp_path / "serve.log"
    replica = Replica(env, log)
    try:
        eventually(lambda: (replica.health() or {}).get("role") == "leader", timeout=30)
        declaration = payloads.view_submission("hotfix_declare", declaration_state(severity="high"), user_id="UDEV")
        assert replica.post(declaration, SECRET) == 200
        status = eventually(lambda: next((m for m in slack.messages("C0HOTFIX") if m["text"].startswith("HF-1 ")),
                                         None), timeout=15)
        for approver in ("UEM", "ULEAD"):
            message = slack.message("C0HOTFIX", status["ts"])
            button = find_button(message, "Approve")
            click = payloads.block_actions(button["action_id"], button.get("value", ""), user_id=approver,
                                           channel_id="C0HOTFIX", message_ts=status["ts"], message=message)
            assert replica.post(click, SECRET) == 200
        eventually(lambda: "hotfix/" in message_text(slack.message("C0HOTFIX", status["ts"])), timeout=30)
    finally:
        replica.stop()

    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(line["logger"].startswith("bot.") and "approved" in line["message"] for line in lines), log.read_text()
    third_party = [f"{line['logger']} {line['level']}: {line['message']}" for line in lines
                   if line["logger"] != "bot" and not line["logger"].startswith("bot.")]
    assert third_party == []


def test_debug_brings_the_third_party_lines_back(env: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with log.open("w") as written:
        serve = subprocess.Popen([str(HOTFIX_BOT), "serve", "--http", "--port", "0", "--log-level", "debug"],
                                 cwd=tmp_path, env={**os.environ, **env}, stdout=written, stderr=subprocess.STDOUT)
    try:
        eventually(lambda: "serving Slack on" in log.read_text(), timeout=30)
    finally:
        serve.terminate()
        serve.wait(timeout=15)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert {"apscheduler", "alembic", "slack_bolt"} <= {line["logger"].split(".")[0] for line in lines}
    assert "As you gave `client` as well, `token` will be unused." in [line["message"] for line in lines]
