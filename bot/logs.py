"""Logging: one line per event, JSON when not on a terminal, no secret ever written, and below debug only the bot's own
lines and its libraries' warnings."""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

# Slack tokens (bot, app, user, refresh), GitHub tokens (classic, fine-grained, OAuth, App installation and
# refresh), and credentials inside URLs (user:password@, or a token as user@).
_TOKENS = re.compile(r"xox[abeoprs]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|\bgh[pousr]_[A-Za-z0-9]{16,}|"
                     r"\bgithub_pat_[A-Za-z0-9_]{20,}")
_CREDENTIALS_IN_URL = re.compile(r"(?<=://)[^/@\s]+@")
_STANDARD = set(vars(logging.makeLogRecord({})))
OWN_LOGGER = "bot"
# Library lines, by logger and start of message, that say nothing the bot's own lines don't say better.
_LIBRARY_NOISE = (
    # At every start, and harmless: Bolt reads SLACK_BOT_TOKEN itself, and is handed a client with that same token.
    ("slack_bolt.App", "As you gave `client` as well, `token` will be unused."),
    # Every failed try of a Slack call; the bot logs what it does about it (a job retried, Socket Mode reconnecting).
    ("slack_sdk.web.base_client", "Failed to send a request to Slack API server: "),
)


def redact(text: str) -> str:
    """The text with every Slack or GitHub token and every credential in a URL hidden: safe to log or show."""
    return _CREDENTIALS_IN_URL.sub("***@", _TOKENS.sub("[redacted]", text))


class OwnLinesFilter(logging.Filter):
    """Above debug: all of the bot's own lines, and of its libraries' only the warnings and errors an operator can
    act on (not APScheduler's lines per tick, Alembic's set-up, or urllib3's connections)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == OWN_LOGGER or record.name.startswith(OWN_LOGGER + "."):
            return True
        return record.levelno >= logging.WARNING and not any(
            record.name == name and record.getMessage().startswith(start) for name, start in _LIBRARY_NOISE)


class RedactingFilter(logging.Filter):
    """Applied to every handler: a token in a message or traceback never reaches the log."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        for secret in self.secrets:
            message = message.replace(secret, "[redacted]")
        record.msg, record.args = message, ()
        if record.exc_info:
            record.exc_text = self._scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True

    def _scrub(self, text: str) -> str:
        text = redact(text)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str, *secrets: str, stream=None) -> None:
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    if stream.isatty():
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    if level.upper() != "DEBUG":
        handler.addFilter(OwnLinesFilter())
    handler.addFilter(RedactingFilter(*secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
