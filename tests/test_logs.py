"""Logs are one JSON object per line off a terminal, name the hotfix, and never carry a secret."""
from __future__ import annotations

import io
import json
import logging

from bot.logs import configure

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
