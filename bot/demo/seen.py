"""What a person could see of the bot's calls to the stand-in Slack: messages, updates, ephemeral notes, modals."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.standins.slack import Call

_KINDS = {"chat.postMessage": "message", "chat.update": "update", "chat.postEphemeral": "ephemeral",
          "views.open": "modal", "views.push": "modal"}


@dataclass
class Posted:
    """One thing a person could see: a message, an update of one, an ephemeral note or an opened modal."""

    kind: str  # "message", "update", "ephemeral", "modal"
    channel: str
    text: str
    at: datetime
    ts: str = ""
    thread_ts: str | None = None
    user: str | None = None  # who sees an ephemeral note
    trigger_id: str | None = None  # the click or command that opened a modal
    blocks: list[dict[str, Any]] = field(default_factory=list)
    view: dict[str, Any] | None = None


def seen(call: Call) -> Posted | None:
    """The call as a person sees it; None for a call nobody sees or one Slack refused."""
    kind = _KINDS.get(call.method)
    if kind is None or call.error is not None:
        return None
    at = datetime.fromtimestamp(call.at, UTC)
    if kind == "modal":
        view = call.answer["view"]
        return Posted(kind, "", (view.get("title") or {}).get("text", ""), at, trigger_id=call.get("trigger_id"),
                      view=view)
    if kind == "ephemeral":
        return Posted(kind, call["channel"], call.get("text", ""), at, user=call.get("user"))
    return Posted(kind, call["channel"], call.get("text", ""), at, ts=call.answer.get("ts", ""),
                  thread_ts=call.get("thread_ts") if kind == "message" else None, blocks=call.get("blocks") or [])
