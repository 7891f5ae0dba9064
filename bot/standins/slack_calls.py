"""What the stand-in Slack records: each call as the app made it, the faults a test injects, and searching them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.standins.slack_http import Reply

MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")


@dataclass(frozen=True)
class Call:
    method: str
    args: dict[str, Any]
    at: float
    error: str | None = None  # Slack's error code when the call was refused or failed
    answer: dict[str, Any] = field(default_factory=dict)  # what Slack answered (the new message's ts, the view)

    def __getitem__(self, name: str) -> Any:
        return self.args[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)


@dataclass
class Fault:
    status: int
    retry_after: int
    times: int
    error: str | None

    def reply(self) -> Reply:
        if self.error is not None:
            return Reply(200, {"ok": False, "error": self.error})
        if self.status == 429:
            retry_after = (("Retry-After", str(self.retry_after)),)
            return Reply(429, {"ok": False, "error": "ratelimited"}, retry_after)
        return Reply(self.status, {"ok": False, "error": "fatal_error"})

    def describe(self) -> str:
        return self.error or ("ratelimited" if self.status == 429 else f"http_{self.status}")


def matches(call: Call, match: dict[str, Any]) -> bool:
    missing = object()
    return all(call.args.get(name, missing) == value for name, value in match.items())


def texts_in(value: Any) -> Iterator[str]:
    """Every string under a "text" key (message text, text objects, option labels), depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            elif isinstance(item, (dict, list)):
                yield from texts_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts_in(item)


def brief(args: dict[str, Any], limit: int = 160) -> str:
    text = json.dumps(args, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
